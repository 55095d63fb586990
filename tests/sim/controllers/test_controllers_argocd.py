"""Simulated Argo CD: following the repo, running sync operations, refresh, health.

The platform's Applications are multi-source (the chart + the values repo as `ref: values`):
as in argo-cd controller/state.go (CompareAppState, persistRevisionHistory) and
controller/sync.go (SyncAppState), only the plural revision fields are written and only
`operation.sync.revisions` is read."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator

import httpx
import pytest
from kubernetes import client

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, kubectl, scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "environment": "test", "replicas": 2},
    {"name": "alpha", "wave": 1, "replicas": 2},
    {"name": "pinned", "wave": 1, "replicas": 1, "image_tag": "30.0.6-apache"},
]
OPERATION = {
    "operation": {
        "initiatedBy": {"username": "ncconsole:tester"},
        "info": [{"name": "Reason", "value": "wave 0"}, {"name": "RequestID", "value": "r-1"}],
        "sync": {"prune": False, "syncStrategy": {"hook": {}}, "syncOptions": []},
        "retry": {"limit": 2},
    }
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path_factory.mktemp("argo")) as running:
        yield running


@pytest.fixture(scope="module")
def custom(sim: Simulator) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client(sim))


def get_app(custom: client.CustomObjectsApi, name: str) -> dict:
    return custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", name
    )


def status_php(sim: Simulator, host: str) -> dict:
    reply = httpx.get(
        f"{sim.web_url}/status.php",
        headers={"Host": host},
        verify=ssl.create_default_context(cafile=sim.ca_file),
        timeout=5,
    )
    assert reply.status_code == 200
    return reply.json()


def test_upgrade_commit_then_sync_rolls_the_tenant_to_the_new_image(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    assert status_php(sim, "canary.nextcloud.example.com")["version"] == "30.0.6.2"
    sha = sim.commit_release("6.6.9", "30.0.8-apache")
    kubectl(
        sim, "wait", "-n", "argocd", "application/nc-canary", "--timeout=20s",
        f"--for=jsonpath={{.status.sync.revisions[1]}}={sha}",
    )  # fmt: skip
    canary = get_app(custom, "nc-canary")
    assert canary["status"]["sync"]["revisions"] == ["6.6.9", sha]
    assert "revision" not in canary["status"]["sync"]  # multi-source: revisions only
    assert canary["status"]["sync"]["status"] == "OutOfSync"
    assert canary["spec"]["sources"][0]["targetRevision"] == "6.6.9"
    pinned = get_app(custom, "nc-pinned")  # its tenant file pins the image: chart only
    assert pinned["status"]["sync"]["status"] == "OutOfSync"

    patched = kubectl(sim, "patch", "-n", "argocd", "application", "nc-canary", "--type",
                      "merge", "-p", json.dumps(OPERATION))  # fmt: skip
    assert "patched" in patched.stdout
    kubectl(
        sim, "wait", "-n", "argocd", "application/nc-canary", "--timeout=20s",
        "--for=jsonpath={.status.operationState.phase}=Succeeded",
    )  # fmt: skip
    app = get_app(custom, "nc-canary")
    st = app["status"]
    assert "operation" not in app
    result = st["operationState"]["syncResult"]
    assert (result["revision"], result["revisions"]) == ("", ["6.6.9", sha])
    assert [s["repoURL"] for s in result["sources"]] == [
        s["repoURL"] for s in app["spec"]["sources"]
    ]
    assert st["operationState"]["operation"]["info"] == OPERATION["operation"]["info"]
    op_state = st["operationState"]
    assert st["reconciledAt"] >= op_state["finishedAt"] >= op_state["startedAt"]
    last = st["history"][-1]
    assert (last["id"], last["revisions"], last.get("revision")) == (1, ["6.6.9", sha], None)
    assert last["initiatedBy"] == {"username": "ncconsole:tester"}
    assert st["sync"]["status"] == "Synced"

    def healthy() -> dict | None:
        app = get_app(custom, "nc-canary")
        return app if app["status"]["health"]["status"] == "Healthy" else None

    app = wait_until(healthy, what="nc-canary Healthy after the rollout")
    assert app["status"]["summary"]["images"] == ["nextcloud:30.0.8-apache"]
    pods = client.CoreV1Api(api_client(sim)).list_namespaced_pod("nc-canary").items
    assert [p.spec.containers[0].image for p in pods] == ["nextcloud:30.0.8-apache"] * 2
    assert status_php(sim, "canary.nextcloud.example.com")["version"] == "30.0.8.2"
    assert status_php(sim, "alpha.nextcloud.example.com")["version"] == "30.0.6.2"
    events = client.CoreV1Api(api_client(sim)).list_namespaced_event("argocd").items
    reasons = {e.reason for e in events if e.involved_object.name == "nc-canary"}
    assert {"OperationStarted", "OperationCompleted"} <= reasons


def test_refresh_annotation_is_honoured_and_removed(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    before = get_app(custom, "nc-alpha")["status"]["reconciledAt"]
    patch = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-alpha", patch
    )

    def refreshed() -> dict | None:
        app = get_app(custom, "nc-alpha")
        annotations = app["metadata"].get("annotations") or {}
        return None if "argocd.argoproj.io/refresh" in annotations else app

    app = wait_until(refreshed, what="the refresh annotation to go")
    assert app["status"]["reconciledAt"] >= before


def test_sync_revision_is_ignored_for_a_multi_source_app(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    """controller/sync.go: a multi-source sync reads `sync.revisions` only; an old-style
    `sync.revision` pointing at the first commit syncs HEAD's revisions instead."""
    app = get_app(custom, "nc-alpha")
    first = app["status"]["history"][0]["revisions"][1]
    head = app["status"]["sync"]["revisions"][1]
    assert first != head
    ignored = {"operation": {"initiatedBy": {"username": "ncconsole:t"},
                             "sync": {"revision": first}}}  # fmt: skip
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-alpha", ignored
    )
    kubectl(
        sim, "wait", "-n", "argocd", "application/nc-alpha", "--timeout=20s",
        "--for=jsonpath={.status.operationState.phase}=Succeeded",
    )  # fmt: skip
    st = get_app(custom, "nc-alpha")["status"]
    assert st["operationState"]["syncResult"]["revisions"] == ["6.6.9", head]
    assert st["sync"]["status"] == "Synced"


def test_sync_revisions_to_earlier_ones_deploy_them_and_leave_the_app_out_of_sync(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    app = get_app(custom, "nc-alpha")
    chart, first = app["status"]["history"][0]["revisions"]
    rollback = {"operation": {"initiatedBy": {"username": "ncconsole:t"},
                              "sync": {"revisions": [chart, first[:10]]}}}  # fmt: skip
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-alpha", rollback
    )
    kubectl(
        sim, "wait", "-n", "argocd", "application/nc-alpha", "--timeout=20s",
        "--for=jsonpath={.status.operationState.phase}=Succeeded",
    )  # fmt: skip
    st = get_app(custom, "nc-alpha")["status"]
    # resolved to the full sha, the chart version as given
    assert st["operationState"]["syncResult"]["revisions"] == [chart, first]
    assert st["sync"]["status"] == "OutOfSync"  # HEAD still asks for the upgrade
    assert st["summary"]["images"] == ["nextcloud:30.0.6-apache"] or wait_until(
        lambda: (
            get_app(custom, "nc-alpha")["status"]["summary"]["images"]
            == ["nextcloud:30.0.6-apache"]
        ),
        what="the old image back",
    )


def test_sync_to_an_unknown_revision_ends_in_error(
    sim: Simulator, custom: client.CustomObjectsApi
) -> None:
    bad = {"operation": {"initiatedBy": {"username": "ncconsole:t"},
                         "sync": {"revisions": ["6.6.9", "no-such-branch"]}}}  # fmt: skip
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-pinned", bad
    )

    def errored() -> dict | None:
        op = get_app(custom, "nc-pinned")["status"].get("operationState") or {}
        return op if op.get("phase") == "Error" else None

    op = wait_until(errored, what="the operation to end in Error")
    assert "unable to resolve 'no-such-branch' to a commit SHA" in op["message"]
