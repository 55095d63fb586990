"""The simulator's RBAC is as strict as Kubernetes': a list across all namespaces only through a
cluster-wide binding (pkg/registry/rbac/validation/rule.go VisitRulesFor), the built-in `view`
role without Secrets or exec (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), and
websocket exec authorized as `get` and `create` on pods/exec (kubernetes#134577, 1.35+)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.exec_ws import ExecRequest
from ncconsole.sim.apiserver.resources import NAMESPACES, PODS, SECRETS
from ncconsole.sim.apiserver.server import SimServer
from tests.sim.sim_helpers import pod_exec

pytestmark = pytest.mark.timeout(30)


async def echo(req: ExecRequest) -> int:
    await req.write_stdout("hi\n")
    return 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        for ns in ("nc-a", "nc-b", "argocd"):
            srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": ns}})
            srv.call(
                srv.store.create, PODS,
                {"metadata": {"name": "p", "namespace": ns},
                 "spec": {"containers": [{"name": "nextcloud"}]}, "status": {"phase": "Running"}},
            )  # fmt: skip
            srv.call(srv.store.create, SECRETS, {"metadata": {"name": "s", "namespace": ns}})
        srv.api.exec_handler = echo
        yield srv


def user(server: SimServer, tmp: Path, name: str, **kw: object) -> client.ApiClient:
    token = f"token-{name}"
    server.call(server.auth.add_user, name, token, **kw)
    return config.new_client_from_config(str(server.write_kubeconfig(tmp / name, token=token)))


def forbidden(call) -> dict:
    with pytest.raises(ApiException) as exc:
        call()
    assert exc.value.status == 403
    return json.loads(exc.value.body)


def can_i(api: client.ApiClient, verb: str, resource: str, namespace: str = "", **extra) -> bool:
    attrs = {"verb": verb, "resource": resource, "namespace": namespace, **extra}
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": attrs}}
    )
    return bool(review.status.allowed)


def test_namespace_bound_user_gets_403_on_every_cluster_wide_list(
    server: SimServer, tmp_path: Path
) -> None:
    api = user(server, tmp_path, "engineer", namespaces=("nc-*", "argocd"))
    v1 = client.CoreV1Api(api)
    body = forbidden(v1.list_pod_for_all_namespaces)
    assert body["message"] == (
        'pods is forbidden: User "engineer" cannot list resource "pods" in API group "" '
        "at the cluster scope"
    )
    forbidden(v1.list_event_for_all_namespaces)
    forbidden(v1.list_secret_for_all_namespaces)
    forbidden(client.AppsV1Api(api).list_deployment_for_all_namespaces)
    forbidden(v1.list_namespace)  # namespaces are cluster-scoped: no RoleBinding reaches them
    assert [p.metadata.name for p in v1.list_namespaced_pod("nc-a").items] == ["p"]
    forbidden(lambda: v1.list_namespaced_pod("kube-system"))
    assert not can_i(api, "list", "pods")
    assert can_i(api, "list", "pods", "nc-b") and can_i(api, "patch", "secrets", "nc-b")


def test_denied_in_one_namespace_means_denied_across_all(server: SimServer, tmp_path: Path) -> None:
    """A user cannot be allowed the cluster-wide list yet denied one namespace: RBAC only
    adds. The old simulator answered the cluster-wide list with every pod, nc-b's too."""
    api = user(server, tmp_path, "partial")
    server.call(server.auth.deny, DenyRule(user="partial", namespaces=("nc-b",)))
    v1 = client.CoreV1Api(api)
    forbidden(v1.list_pod_for_all_namespaces)
    forbidden(lambda: v1.list_namespaced_pod("nc-b"))
    assert v1.list_namespaced_pod("nc-a").items
    assert v1.list_namespace().items  # a cluster-scoped kind is not "across namespaces"


def test_read_only_user_has_the_view_role(server: SimServer, tmp_path: Path) -> None:
    api = user(server, tmp_path, "looker", read_only=True)
    v1 = client.CoreV1Api(api)
    assert v1.list_pod_for_all_namespaces().items
    assert v1.list_event_for_all_namespaces() is not None
    assert client.CustomObjectsApi(api).list_cluster_custom_object(
        "argoproj.io", "v1alpha1", "applications"
    )
    forbidden(v1.list_secret_for_all_namespaces)
    forbidden(lambda: v1.read_namespaced_secret("s", "nc-a"))
    forbidden(lambda: client.CoordinationV1Api(api).list_namespaced_lease("argocd"))
    assert not can_i(api, "create", "pods", "nc-a", subresource="exec")
    assert not can_i(api, "get", "pods", "nc-a", subresource="exec")
    assert can_i(api, "get", "pods", "nc-a", subresource="log")


def test_websocket_exec_needs_get_as_well_as_create(server: SimServer, tmp_path: Path) -> None:
    api = user(server, tmp_path, "creator")
    server.call(
        server.auth.deny, DenyRule(user="creator", verbs=("get",), resources=("pods/exec",))
    )
    assert can_i(api, "create", "pods", "nc-a", subresource="exec")
    with pytest.raises(ApiException) as exc:
        pod_exec(client.CoreV1Api(api), "nc-a", "p", ["echo"])
    assert "Handshake status 403" in str(exc.value)  # the websocket client's wording
