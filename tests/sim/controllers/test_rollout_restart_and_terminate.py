"""The simulator's controllers as `kubectl rollout restart`/`rollout status` and Argo CD see
them: a restart makes a new ReplicaSet hash and replaces the pods (a stale crash loop ends);
a failed sync records which resource failed; Terminating ends a running sync."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ncconsole.sim.apiserver.resources import APPLICATIONS, PODS
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import kubectl, scenario, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    tenants = [
        {"name": "crashy", "wave": 0, "replicas": 2, "faults": {"stale_crashloop": True}},
        {"name": "stuck", "wave": 1, "replicas": 1, "faults": {"sync_fails": True}},
    ]
    with Simulator(
        scenario(tenants, timings={"sync": 0.5}), workdir=tmp_path_factory.mktemp("s")
    ) as s:
        yield s


def hashes(sim: Simulator, tenant: str) -> set[str]:
    pods = sim.call(sim.store.list, PODS, f"nc-{tenant}")
    return {p["metadata"]["labels"]["pod-template-hash"] for p in pods}


def test_kubectl_rollout_restart_replaces_the_pods_and_rollout_status_sees_it(sim) -> None:
    before = hashes(sim, "crashy")
    kubectl(sim, "rollout", "restart", "-n", "nc-crashy", "deployment/nextcloud")
    status = kubectl(
        sim, "rollout", "status", "-n", "nc-crashy", "deployment/nextcloud", "--timeout=30s"
    )
    assert 'deployment "nextcloud" successfully rolled out' in status.stdout
    after = hashes(sim, "crashy")
    assert len(after) == 1 and after.isdisjoint(before)
    previous = kubectl(
        sim, "logs", "-n", "nc-crashy", "deploy/nextcloud", "--previous", check=False
    )
    assert previous.returncode != 0  # fresh pods: no crashed run to show


def _app(sim: Simulator, name: str) -> dict:
    return sim.call(sim.store.get, APPLICATIONS, "argocd", f"nc-{name}")


def _request(sim: Simulator, name: str, retries: int) -> None:
    def mutate(obj: dict) -> None:
        obj["operation"] = {
            "initiatedBy": {"username": "tester"},
            "sync": {"revisions": ["", ""]},
            "retry": {"limit": retries},
        }

    sim.call(sim.store.update, APPLICATIONS, "argocd", f"nc-{name}", mutate)


def _phase(sim: Simulator, name: str) -> str:
    return ((_app(sim, name).get("status") or {}).get("operationState") or {}).get("phase", "")


def test_a_failed_sync_names_the_resource_that_failed(sim) -> None:
    _request(sim, "stuck", 0)
    wait_until(lambda: _phase(sim, "stuck") == "Failed", timeout=20, what="the sync failed")
    result = _app(sim, "stuck")["status"]["operationState"]["syncResult"]
    (resource,) = result["resources"]
    assert resource["kind"] == "Deployment" and resource["status"] == "SyncFailed"
    assert "admission webhook" in resource["message"]


def test_terminating_ends_a_running_sync_failed_without_retries(sim) -> None:
    _request(sim, "stuck", 50)
    wait_until(lambda: _phase(sim, "stuck") == "Running", what="the sync running")

    def terminate(obj: dict) -> None:
        obj["status"]["operationState"]["phase"] = "Terminating"

    sim.call(sim.store.update, APPLICATIONS, "argocd", "nc-stuck", terminate)
    wait_until(lambda: _phase(sim, "stuck") == "Failed", timeout=20, what="terminated")
    app = _app(sim, "stuck")
    assert app["status"]["operationState"]["message"] == "Operation terminated"
    assert "operation" not in app
