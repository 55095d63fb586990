"""The simulator's Argo CD as the controller of a real cluster: a sync requested the way the
console requests it is applied through the real API, kube-controller-manager rolls the
Deployment (a new ReplicaSet and Pods), kwok runs the Pods, and the Application's health follows
the real Deployment - the same controller code as in `ncconsole sim`, on `RemoteStore`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.fleet.model import Health
from ncconsole.fleet.state import FleetState
from ncconsole.kube.argocd import request_sync
from ncconsole.kube.argocd_follow import follow_sync
from ncconsole.kube.watch import WatchTiming
from ncconsole.sim.controllers.argocd import ArgoCdController
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import PlatformState
from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.platform_repo.repo import desired_versions, write_platform_repo
from ncconsole.sim.scenario import Scenario
from tests.realk8s.cluster import RealCluster, wait_until
from tests.realk8s.remote_store import ControllerThread, RemoteStore

TENANT = "rk-argo"
APP = f"nc-{TENANT}"


def _rev(repo: Path, rev: str) -> str:
    done = subprocess.run(["git", "rev-parse", rev], cwd=repo, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def platform(real_cluster: RealCluster, tmp_path_factory: pytest.TempPathFactory):
    """A platform repo with a chart upgrade committed, the tenant deployed at the commit
    before it, and the simulator's Argo CD controlling the real cluster."""
    scenario = Scenario.model_validate(
        {
            "tenants": [{"name": TENANT, "wave": 0, "replicas": 1}],
            "pending_upgrade": {"chart_version": "6.6.9", "image_tag": "30.0.8-apache"},
        }
    )
    repo = tmp_path_factory.mktemp("argo") / "platform"
    head = write_platform_repo(scenario, repo)
    initial = _rev(repo, "HEAD^")
    desired, deployed = desired_versions(repo, head), desired_versions(repo, initial)
    tenant = real_cluster.add_tenant(
        TENANT, 0, 1, deployed[TENANT], desired=desired[TENANT], head=head,
        deployed_revision=initial,
    )  # fmt: skip
    real_cluster.wait_ready(tenant)
    state = PlatformState(scenario, repo)
    state.tenants[TENANT] = tenant
    state.instances[TENANT] = NextcloudInstance.for_tenant(tenant, deployed[TENANT].image_tag)
    store = RemoteStore(
        real_cluster.server, str(real_cluster.ca_file), real_cluster._tokens["admin"]
    )
    loop = ControllerThread().start()
    controller = ArgoCdController(
        store, state, EventRecorder(store), head=head, desired=desired, deployed=dict(deployed)
    )  # type: ignore[arg-type]
    loop.call(controller.start)
    yield {"repo": repo, "head": head, "desired": desired[TENANT], "deployed": deployed[TENANT]}
    loop.call(controller.stop)
    loop.stop()
    store.close()


@pytest.fixture
def fleet(real_cluster: RealCluster, platform) -> Iterator[FleetState]:
    settings = real_cluster.settings("admin", repo=platform["repo"])
    state = FleetState(settings, timing=WatchTiming(heartbeat_seconds=1), probes=False)
    state.start()
    yield state
    state.stop()


def test_a_console_sync_rolls_the_real_deployment(real_cluster: RealCluster, platform, fleet):
    before = real_cluster.get(f"/apis/apps/v1/namespaces/nc-{TENANT}/replicasets")["items"]
    conn = real_cluster.connection("admin")
    request = request_sync(
        conn, "argocd", APP, user="test", reason="realk8s stand-in", busy=lambda app: ""
    )
    result = follow_sync(conn, request, timeout=120, require_synced=False)
    assert not result.timed_out and result.state.state == "done", result
    app = real_cluster.get(f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{APP}")
    operation = app["status"]["operationState"]
    assert operation["phase"] == "Succeeded"
    # Multi-source, as real Argo CD writes it: revisions only (issue 11).
    assert operation["syncResult"]["revisions"][0] == "6.6.9"
    assert app["status"]["history"][-1]["revisions"][0] == "6.6.9"
    image = f"nextcloud:{platform['desired'].image_tag}"
    deployment = real_cluster.get(f"/apis/apps/v1/namespaces/nc-{TENANT}/deployments/nextcloud")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    # kube-controller-manager made a new ReplicaSet; kwok runs its pod.
    after = wait_until(
        lambda: (
            (rs := real_cluster.get(f"/apis/apps/v1/namespaces/nc-{TENANT}/replicasets")["items"])
            and len(rs) > len(before)
            and rs
        ),
        60,
        "a new ReplicaSet",
    )
    assert any(r["spec"]["template"]["spec"]["containers"][0]["image"] == image for r in after)
    wait_until(
        lambda: any(
            p["spec"]["containers"][0]["image"] == image
            for p in real_cluster.ready_pods(f"nc-{TENANT}")
        ),
        60,
        "a Ready pod with the new image",
    )
    # The console sees the real objects made by the real controllers.
    snap = fleet.wait_for(
        lambda s: (
            (t := s.tenant(TENANT)) is not None
            and t.health is Health.HEALTHY
            and t.app is not None
            and t.app.health_status == "Healthy"
            and any(p.image == image for p in t.pods)
        ),
        60,
    )
    assert snap.tenant(TENANT).deployment.ready_replicas == 1
