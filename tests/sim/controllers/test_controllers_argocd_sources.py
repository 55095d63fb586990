"""Simulated Argo CD and the shape of an Application's sources.

Multi-source (the platform's template) and single-source Applications write different
revision fields (argo-cd controller/state.go CompareAppState and persistRevisionHistory,
controller/sync.go SyncAppState); a rollback names its sources in `operation.sync.sources` /
`operation.sync.source`, as argo-cd server/application (Rollback) writes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, scenario, wait_until

pytestmark = pytest.mark.timeout(90)
# Two simulators share the process's moto S3: each gets its own tenant (bucket) name.
SINGLE, MULTI = "solo", "duo"


def get_app(sim: Simulator) -> dict:
    return client.CustomObjectsApi(api_client(sim)).get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", f"nc-{sim.scenario.tenants[0].name}"
    )


def request(sim: Simulator, sync: dict) -> dict:
    """Patch an operation onto the tenant's Application and wait for its result."""
    client.CustomObjectsApi(api_client(sim)).patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", f"nc-{sim.scenario.tenants[0].name}",
        {"operation": {"initiatedBy": {"username": "ncconsole:t"}, "sync": sync}},
    )  # fmt: skip

    def finished() -> dict | None:
        app = get_app(sim)
        phase = (app["status"].get("operationState") or {}).get("phase")
        return app if "operation" not in app and phase in ("Succeeded", "Error") else None

    return wait_until(finished, timeout=20, what="the operation to finish")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(
        [{"name": SINGLE, "wave": 0, "replicas": 1}], applicationset={"sources": "single"}
    )
    with Simulator(spec, workdir=tmp_path_factory.mktemp("single")) as running:
        yield running


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario([{"name": MULTI, "wave": 0, "replicas": 1}])
    with Simulator(spec, workdir=tmp_path_factory.mktemp("multi")) as running:
        yield running


def test_single_source_app_writes_the_singular_fields(single: Simulator) -> None:
    app = get_app(single)
    assert "sources" not in app["spec"] and app["spec"]["source"]["path"] == "charts/nextcloud"
    first = app["status"]["sync"]["revision"]
    assert len(first) == 40 and "revisions" not in app["status"]["sync"]
    assert app["status"]["history"][0]["revision"] == first
    head = single.commit_release("6.6.9", "30.0.8-apache")
    wait_until(lambda: get_app(single)["status"]["sync"]["revision"] == head, what="new HEAD")
    done = request(single, {"revision": head[:8]})
    st = done["status"]
    assert st["operationState"]["syncResult"]["revision"] == head
    assert "revisions" not in st["operationState"]["syncResult"]
    assert st["history"][-1]["revision"] == head and "revisions" not in st["history"][-1]
    assert st["sync"]["status"] == "Synced"
    back = request(single, {"revision": first, "source": app["spec"]["source"]})
    assert back["status"]["operationState"]["syncResult"]["revision"] == first
    assert back["status"]["sync"]["status"] == "OutOfSync"  # HEAD still asks for 6.6.9


def test_multi_source_rollback_with_the_history_sources(multi: Simulator) -> None:
    """What Argo CD's own rollback writes: the history entry's sources and revisions."""
    before = get_app(multi)["status"]["history"][0]
    assert before["revisions"][0] == "6.6.4" and "revision" not in before
    multi.commit_release("6.6.9", "30.0.8-apache")
    wait_until(
        lambda: get_app(multi)["status"]["sync"]["revisions"][0] == "6.6.9",
        what="the upgrade noticed",
    )
    upgraded = request(multi, {"revisions": get_app(multi)["status"]["sync"]["revisions"]})
    assert upgraded["status"]["sync"]["status"] == "Synced"
    back = request(multi, {"revisions": before["revisions"], "sources": before["sources"]})
    result = back["status"]["operationState"]["syncResult"]
    assert result["revisions"] == before["revisions"] and result["revision"] == ""
    assert back["status"]["history"][-1]["revisions"] == before["revisions"]
    wait_until(
        lambda: get_app(multi)["status"]["summary"]["images"] == ["nextcloud:30.0.6-apache"],
        what="the old image back",
    )
    assert get_app(multi)["status"]["sync"]["status"] == "OutOfSync"


def test_a_missing_revision_position_means_that_sources_own_target(multi: Simulator) -> None:
    """SyncAppState takes `sync.revisions` position by position; an empty one is the
    source's targetRevision (here the chart stays, the values commit is HEAD)."""
    head = get_app(multi)["status"]["sync"]["revisions"]
    done = request(multi, {"revisions": ["", ""]})
    assert done["status"]["operationState"]["syncResult"]["revisions"] == head
