"""The ApplicationSet's RollingSync steps in a running simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
    {"name": "beta", "wave": 1, "replicas": 1},
    {"name": "stray", "wave": 7, "replicas": 1},
]
STEPS = [{"waves": [0]}, {"waves": [1], "max_update": 0}]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(TENANTS, applicationset={"mode": "rolling_sync", "steps": STEPS})
    with Simulator(spec, workdir=tmp_path_factory.mktemp("rolling")) as running:
        yield running


def app_status(custom: client.CustomObjectsApi) -> dict[str, dict]:
    appset = custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applicationsets", "nextcloud-tenants"
    )
    return {s["application"]: s for s in (appset.get("status") or {}).get("applicationStatus", [])}


def test_rolling_sync_syncs_automatic_steps_and_waits_at_manual_ones(sim: Simulator) -> None:
    custom = client.CustomObjectsApi(api_client(sim))
    initial = wait_until(lambda: app_status(custom), what="applicationStatus")
    assert {a: (s["step"], s["status"]) for a, s in initial.items()} == {
        "nc-canary": ("1", "Healthy"), "nc-alpha": ("2", "Healthy"),
        "nc-beta": ("2", "Healthy"), "nc-stray": ("-1", "Healthy"),
    }  # fmt: skip
    sha = sim.commit_release("6.6.9", "30.0.8-apache")

    def canary_done_others_waiting() -> dict | None:
        st = app_status(custom)
        states = {a: s["status"] for a, s in st.items()}
        want = {"nc-canary": "Healthy", "nc-alpha": "Waiting", "nc-beta": "Waiting"}
        done = all(states.get(a) == s for a, s in want.items())
        # progressive_sync.go copies status.sync.revisions: chart version and values commit
        return st if done and st["nc-canary"]["targetRevisions"] == ["6.6.9", sha] else None

    st = wait_until(canary_done_others_waiting, timeout=20, what="step 1 synced, step 2 waiting")
    assert st["nc-alpha"]["message"].startswith("Application has pending changes")
    canary = custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-canary"
    )
    initiated = canary["status"]["operationState"]["operation"]["initiatedBy"]
    assert initiated == {"username": "applicationset-controller", "automated": True}
    stray = custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-stray"
    )
    assert stray["status"]["sync"]["status"] == "OutOfSync"  # step -1: never synced
    assert st["nc-stray"]["step"] == "-1"
