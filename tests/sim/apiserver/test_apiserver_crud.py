"""The simulated API server seen through the real kubernetes client: CRUD, errors, RBAC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import APPLICATIONS, NAMESPACES, PODS, SECRETS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    # A short event history, so that a test can outlive it quickly.
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls"), store=Store(history_limit=100)) as srv:
        for ns in ("nc-a", "nc-b", "argocd"):
            srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": ns}})
        yield srv


@pytest.fixture(scope="module")
def api(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    return config.new_client_from_config(str(path))


def user_client(server: SimServer, tmp: Path, name: str, **kw: bool) -> client.ApiClient:
    token = f"token-{name}"
    server.call(server.auth.add_user, name, token, **kw)
    return config.new_client_from_config(str(server.write_kubeconfig(tmp / name, token=token)))


def churn(server: SimServer, writes: int) -> None:
    """Make `writes` changes, pushing older versions out of the server's history."""
    store = server.store
    if store.try_get(SECRETS, "nc-b", "churn") is None:
        store.create(SECRETS, {"metadata": {"name": "churn", "namespace": "nc-b"}})
    for i in range(writes):
        store.update(SECRETS, "nc-b", "churn", lambda o, i=i: {**o, "data": {"i": str(i)}})


def pod_body(name: str, **labels: str) -> dict:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30.0.1"}]},
    }


def error(exc: pytest.ExceptionInfo[ApiException]) -> dict:
    return json.loads(exc.value.body)


def test_without_or_with_a_bad_token_the_answer_is_401(server: SimServer) -> None:
    with httpx.Client(verify=server.tls.client_context()) as http:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            resp = http.get(f"{server.url}/api/v1/pods", headers=headers)
            assert resp.status_code == 401
            assert resp.json()["reason"] == "Unauthorized" and resp.json()["kind"] == "Status"


def test_an_expired_token_is_refused(server: SimServer, tmp_path: Path) -> None:
    api = user_client(server, tmp_path, "late")
    server.call(server.auth.expire, "token-late")
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(api).list_namespace()
    assert exc.value.status == 401


def test_discovery_lists_groups_and_resources(api: client.ApiClient) -> None:
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "argoproj.io", "coordination.k8s.io", "external-secrets.io"} <= groups
    core = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {"pods", "pods/log", "pods/exec", "namespaces", "secrets", "events"} <= core
    assert client.VersionApi(api).get_code().major == "1"


def test_create_get_list_with_selectors(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    made = v1.create_namespaced_pod("nc-a", pod_body("web-1", app="nextcloud", tier="web"))
    assert made.metadata.uid and made.metadata.resource_version and made.status.phase == "Pending"
    v1.create_namespaced_pod("nc-a", pod_body("db-1", app="nextcloud", tier="db"))
    v1.create_namespaced_pod("nc-b", pod_body("web-2", app="nextcloud", tier="web"))
    names = lambda pods: sorted(p.metadata.name for p in pods.items)  # noqa: E731
    everywhere = v1.list_pod_for_all_namespaces(label_selector="app==nextcloud,tier in (web)")
    assert names(everywhere) == ["web-1", "web-2"]
    assert names(v1.list_namespaced_pod("nc-a", label_selector="tier!=web")) == ["db-1"]
    by_field = v1.list_pod_for_all_namespaces(field_selector="metadata.namespace=nc-b")
    assert names(by_field) == ["web-2"]
    assert v1.read_namespaced_pod("web-1", "nc-a").spec.containers[0].name == "nextcloud"


def test_limit_and_continue_page_through_a_list(server: SimServer, api: client.ApiClient) -> None:
    objs = client.CustomObjectsApi(api)
    for i in range(5):
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": f"page-{i}", "labels": {"paged": "yes"}},
            "spec": {
                "project": "default",
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "nc-a"},
                "sources": [{"repoURL": "https://nextcloud.github.io/helm/", "chart": "nextcloud"}],
            },
        }
        objs.create_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", body
        )
    seen, token = [], None
    while True:
        page = objs.list_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            "argocd",
            "applications",
            label_selector="paged=yes",
            limit=2,
            _continue=token,
        )
        seen += [a["metadata"]["name"] for a in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]


def test_an_expired_continue_token_is_410(server: SimServer, api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    token = v1.list_namespace(limit=1).metadata._continue
    server.call(churn, server, 120)
    with pytest.raises(ApiException) as exc:
        v1.list_namespace(limit=1, _continue=token)
    assert exc.value.status == 410 and error(exc)["reason"] == "Expired"


def test_create_errors(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_secret("nc-a", {"metadata": {"name": "dup"}})
    with pytest.raises(ApiException) as dup:
        v1.create_namespaced_secret("nc-a", {"metadata": {"name": "dup"}})
    assert dup.value.status == 409 and error(dup)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as no_ns:
        v1.create_namespaced_secret("nc-nowhere", {"metadata": {"name": "s"}})
    assert (
        no_ns.value.status == 404 and error(no_ns)["message"] == 'namespaces "nc-nowhere" not found'
    )
    with pytest.raises(ApiException) as bad:
        v1.create_namespaced_secret("nc-a", {"metadata": {"name": "Not_A_Name"}})
    assert bad.value.status == 422 and error(bad)["reason"] == "Invalid"


def test_generate_name_and_dry_run(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    made = v1.create_namespaced_secret("nc-a", {"metadata": {"generateName": "gen-"}})
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == 9
    v1.create_namespaced_secret("nc-a", {"metadata": {"name": "dry"}}, dry_run="All")
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_secret("dry", "nc-a")
    assert exc.value.status == 404


def test_put_with_a_stale_resource_version_is_409(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    first = v1.create_namespaced_secret("nc-a", {"metadata": {"name": "put"}, "data": {}})
    first.string_data = {"k": "v"}
    v1.replace_namespaced_secret("put", "nc-a", first)
    with pytest.raises(ApiException) as exc:
        v1.replace_namespaced_secret("put", "nc-a", first)  # still carries the old version
    assert exc.value.status == 409 and error(exc)["reason"] == "Conflict"


def test_patch_types_and_preconditions(api: client.ApiClient) -> None:
    objs = client.CustomObjectsApi(api)
    args = ("argoproj.io", "v1alpha1", "argocd", "applications", "patched")
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "patched"},
        "spec": {"project": "default", "destination": {"namespace": "nc-a"}},
    }
    made = objs.create_namespaced_custom_object(*args[:4], body)
    merged = objs.patch_namespaced_custom_object(*args, {"operation": {"sync": {}}})
    assert merged["operation"] == {"sync": {}} and merged["metadata"]["generation"] == 2
    stale = {"metadata": {"resourceVersion": made["metadata"]["resourceVersion"]}, "x": 1}
    with pytest.raises(ApiException) as conflict:
        objs.patch_namespaced_custom_object(*args, stale)
    assert conflict.value.status == 409
    ops = [{"op": "remove", "path": "/operation"}]
    api.set_default_header("Content-Type", "application/json-patch+json")
    try:
        assert "operation" not in objs.patch_namespaced_custom_object(*args, ops)
    finally:
        api.default_headers.pop("Content-Type")


def test_strategic_merge_works_on_builtins_and_415s_on_custom(
    server: SimServer, api: client.ApiClient
) -> None:
    with httpx.Client(verify=server.tls.client_context()) as http:
        headers = {
            "Authorization": f"Bearer {server.admin_token}",
            "Content-Type": "application/strategic-merge-patch+json",
        }
        client.AppsV1Api(api).create_namespaced_deployment(
            "nc-a",
            {
                "metadata": {"name": "nextcloud"},
                "spec": {
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "nextcloud", "image": "nextcloud:30"},
                                {"name": "sidecar", "image": "s"},
                            ]
                        }
                    },
                },
            },
        )
        patch = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:31"}]}
                }
            }
        }
        resp = http.patch(
            f"{server.url}/apis/apps/v1/namespaces/nc-a/deployments/nextcloud",
            headers=headers,
            json=patch,
        )
        containers = resp.json()["spec"]["template"]["spec"]["containers"]
        assert [(c["name"], c["image"]) for c in containers] == [
            ("nextcloud", "nextcloud:31"),
            ("sidecar", "s"),
        ]
        resp = http.patch(
            f"{server.url}/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/x",
            headers=headers,
            json={},
        )
        assert resp.status_code == 415 and resp.json()["reason"] == "UnsupportedMediaType"


def test_status_subresource_keeps_spec_and_status_apart(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(
        "nc-b",
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"spec": {"containers": []}},
            },
        },
    )
    apps.patch_namespaced_deployment_status("d", "nc-b", {"status": {"readyReplicas": 1}})
    after = apps.patch_namespaced_deployment(
        "d", "nc-b", {"status": {"readyReplicas": 9}, "spec": {"replicas": 2}}
    )
    assert (
        after.status.ready_replicas == 1
        and after.spec.replicas == 2
        and after.metadata.generation == 2
    )


def test_delete_returns_the_object_and_then_it_is_gone(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_secret("nc-b", {"metadata": {"name": "bye"}})
    gone = v1.delete_namespaced_secret("bye", "nc-b")
    assert gone["status"] == "Success" and gone["details"]["name"] == "bye"
    with pytest.raises(ApiException) as exc:
        v1.delete_namespaced_secret("bye", "nc-b")
    assert exc.value.status == 404 and error(exc)["message"] == 'secrets "bye" not found'


def test_deny_rules_give_the_real_403(server: SimServer, tmp_path: Path) -> None:
    api = user_client(server, tmp_path, "ops")
    server.call(
        server.auth.deny,
        DenyRule(user="ops", verbs=("list",), resources=("pods",), namespaces=("nc-b",)),
    )
    v1 = client.CoreV1Api(api)
    assert v1.list_namespaced_pod("nc-a").items is not None
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_pod("nc-b")
    assert exc.value.status == 403
    assert error(exc)["message"] == (
        'pods is forbidden: User "ops" cannot list resource "pods" in API group "" '
        'in the namespace "nc-b"'
    )


def test_read_only_user_may_read_but_not_write(server: SimServer, tmp_path: Path) -> None:
    api = user_client(server, tmp_path, "viewer", read_only=True)
    objs = client.CustomObjectsApi(api)
    assert objs.list_cluster_custom_object("argoproj.io", "v1alpha1", "applications")["items"]
    with pytest.raises(ApiException) as exc:
        objs.patch_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", "page-0", {"operation": {}}
        )
    assert exc.value.status == 403 and error(exc)["reason"] == "Forbidden"
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {
            "spec": {
                "resourceAttributes": {
                    "verb": "patch",
                    "group": "argoproj.io",
                    "resource": "applications",
                    "namespace": "argocd",
                }
            }
        }
    )
    assert review.status.allowed is False


def test_store_writes_by_the_server_thread_are_visible(
    server: SimServer, api: client.ApiClient
) -> None:
    server.call(
        server.store.update,
        APPLICATIONS,
        "argocd",
        "page-1",
        lambda o: o.setdefault("status", {}).update(sync={"status": "OutOfSync"}),
    )
    app = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "page-1"
    )
    assert app["status"]["sync"]["status"] == "OutOfSync"
    assert server.call(server.store.count, PODS) >= 3
