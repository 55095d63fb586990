"""The console's fleet read path (FleetState and its list+watch loops) against a real apiserver.

Pods here are real: kube-controller-manager makes them from the tenant's Deployment, the
scheduler places them on the kwok node and kwok reports them Running and Ready. Each user reads
the fleet with its own RBAC: admin (system:masters), viewer (the built-in `view`) and engineer
(RoleBindings in the tenant namespaces only, so every cluster-wide list is 403).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ncconsole.fleet.model import Health, KindStatus
from ncconsole.fleet.state import FleetState
from ncconsole.fleet.watches import NEXTCLOUD_SELECTOR
from ncconsole.kube.watch import KindWatcher, WatchSpec, WatchTiming
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.realk8s.cluster import RealCluster, wait_until

FAST = WatchTiming(
    watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.5, heartbeat_seconds=1
)
TENANTS = {"rk-alpha": 0, "rk-beta": 1}


@pytest.fixture(scope="module")
def tenants(real_cluster: RealCluster) -> dict[str, Any]:
    specs = {name: real_cluster.add_tenant(name, wave) for name, wave in TENANTS.items()}
    for spec in specs.values():
        real_cluster.wait_ready(spec)
    return specs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in TENANTS.items()}
    return write_repo(tmp_path / "repo", files)


def start_fleet(real_cluster: RealCluster, user: str, repo: Path) -> FleetState:
    state = FleetState(real_cluster.settings(user, repo=repo), timing=FAST, probes=False)
    state.start()
    return state


@pytest.fixture
def fleet_as(real_cluster: RealCluster, tenants, repo: Path) -> Iterator[Any]:
    started: list[FleetState] = []

    def start(user: str) -> FleetState:
        state = start_fleet(real_cluster, user, repo)
        started.append(state)
        return state

    yield start
    for state in started:
        state.stop()


def healthy(name: str):
    def check(snapshot) -> bool:
        tenant = snapshot.tenant(name)
        return bool(snapshot.complete and tenant and tenant.health is Health.HEALTHY)

    return check


@pytest.mark.parametrize("user", ["admin", "viewer"])
def test_admin_and_viewer_see_real_pods_deployments_and_applications(fleet_as, user) -> None:
    fleet = fleet_as(user)
    snap = fleet.wait_for(lambda s: healthy("rk-alpha")(s) and healthy("rk-beta")(s), 60)
    alpha = snap.tenant("rk-alpha")
    assert alpha.deployment is not None and alpha.deployment.ready_replicas == 1
    assert len(alpha.pods) == 1 and alpha.pods[0].name.startswith("nextcloud-")
    assert alpha.app is not None and alpha.app.health_status == "Healthy"
    for kind in ("pods", "deployments", "applications", "applicationsets", "events", "platform"):
        assert snap.kinds[kind].status is KindStatus.LIVE, (kind, snap.kinds[kind])
    assert snap.platform.redis is not None and snap.platform.pgbouncer is not None


def test_a_deleted_pod_is_replaced_by_the_real_replicaset(real_cluster, fleet_as) -> None:
    fleet = fleet_as("admin")
    snap = fleet.wait_for(healthy("rk-alpha"), 60)
    (old,) = snap.tenant("rk-alpha").pods
    real_cluster.kubectl("delete", "pod", "-n", "nc-rk-alpha", old.name, "--wait=false")
    snap = fleet.wait_for(
        lambda s: (
            [p.name for p in s.tenant("rk-alpha").pods if p.ready]
            and old.name not in [p.name for p in s.tenant("rk-alpha").pods]
        ),
        60,
    )
    assert snap.tenant("rk-alpha").health is Health.HEALTHY


def test_engineer_cluster_wide_lists_are_forbidden_by_real_rbac(fleet_as) -> None:
    fleet = fleet_as("engineer")
    snap = fleet.wait_for(lambda s: s.complete, 60)
    # Real RBAC: RoleBindings never allow a cluster-wide list (rule.go VisitRulesFor), so
    # the fleet reads these kinds per tenant namespace (issue 11).
    for kind in ("pods", "deployments", "events"):
        assert snap.kinds[kind].status is KindStatus.PER_NAMESPACE, (kind, snap.kinds[kind])
    # Applications live in argocd, where the engineer has a RoleBinding.
    assert snap.kinds["applications"].status is KindStatus.LIVE


def test_engineer_never_sees_a_tenant_healthy_it_cannot_read(fleet_as) -> None:
    fleet = fleet_as("engineer")
    snap = fleet.wait_for(lambda s: s.complete and s.tenant("rk-alpha") is not None, 60)
    alpha = snap.tenant("rk-alpha")
    assert alpha.pods or alpha.health is not Health.HEALTHY, (alpha.health, alpha.reason)


# -- the watch loop itself ---------------------------------------------------------------------


class RecordingSink:
    """A WatchSink that keeps what it was told, for the loop's behaviour on the real server."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Any] = {}
        self.replaced = 0
        self.statuses: list[tuple[KindStatus, str]] = []
        self.changed = threading.Event()

    def replace(self, kind, items, namespace=None) -> None:
        self.items = dict(items)
        self.replaced += 1
        self.changed.set()

    def upsert(self, kind, key, view) -> None:
        self.items[key] = view
        self.changed.set()

    def delete(self, kind, key) -> None:
        self.items.pop(key, None)
        self.changed.set()

    def kind_status(self, kind, status, message="") -> None:
        self.statuses.append((status, message))

    def namespace_status(self, kind, namespace, status, message="") -> None:
        self.statuses.append((status, f"{namespace}: {message}"))

    def contact(self, ok, error="") -> None:
        pass


def configmap_watcher(real_cluster: RealCluster, namespace: str, timing: WatchTiming):
    sink = RecordingSink()
    spec = WatchSpec(
        "configmaps",
        f"/api/v1/namespaces/{namespace}/configmaps",
        lambda obj: obj["data"],
        label_selector="rk=watch",
    )
    return KindWatcher(real_cluster.connection("admin"), spec, sink, timing), sink


def put_configmap(real_cluster: RealCluster, namespace: str, name: str, value: str) -> None:
    body = {"metadata": {"name": name, "labels": {"rk": "watch"}}, "data": {"v": value}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    real_cluster.ensure(path, body)
    real_cluster.patch(f"{path}/{name}", {"data": {"v": value}})


def test_watch_resumes_after_the_server_ends_it_without_relisting(real_cluster, tenants) -> None:
    ns = "nc-rk-alpha"
    watcher, sink = configmap_watcher(real_cluster, ns, WatchTiming(watch_seconds=2))
    watcher.start()
    try:
        wait_until(lambda: sink.replaced == 1, 30, "the first list")
        # timeoutSeconds=1..2: the apiserver ends each watch; the loop resumes from its RV.
        wait_until(lambda: watcher.streams_opened >= 3, 30, "three watch streams")
        put_configmap(real_cluster, ns, "resume", "after-resume")
        wait_until(lambda: sink.items.get((ns, "resume")) == {"v": "after-resume"}, 30, "event")
        assert watcher.lists == 1
    finally:
        watcher.stop()


def test_bookmarks_arrive_before_the_watch_times_out(real_cluster, tenants) -> None:
    ns = "nc-rk-alpha"
    with real_cluster.http("admin") as http:
        listed = http.get(f"/api/v1/namespaces/{ns}/configmaps").json()
        # A write elsewhere moves etcd's revision past the list's; a bookmark carries only an
        # RV newer than the watch's own, which a busy cluster always has and a fresh one not.
        put_configmap(real_cluster, "nc-rk-beta", "bookmark-nudge", secrets.token_hex(4))
        query = {
            "watch": "true",
            "resourceVersion": listed["metadata"]["resourceVersion"],
            "allowWatchBookmarks": "true",
            # A bookmark comes 2 s before the timeout (cacher.go nextBookmarkTime), with the
            # RV that etcd's progress notifications (every 5 s here) brought the cache to.
            "timeoutSeconds": "12",
        }
        with http.stream("GET", f"/api/v1/namespaces/{ns}/configmaps", params=query) as stream:
            events = [json.loads(line) for line in stream.iter_lines() if line]
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, events
    # A bookmark is an object of the watched kind with only a resourceVersion (and the
    # initial-events annotation, when asked for).
    assert bookmarks[0]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[0]["object"]["metadata"]["resourceVersion"]) >= int(
        listed["metadata"]["resourceVersion"]
    )


def test_after_compaction_and_an_apiserver_restart_the_watch_relists(real_cluster, tenants) -> None:
    # A compaction alone does not expire a resourceVersion the watch cache still holds; a
    # restarted apiserver (a rollout) starts its cache at the current revision, and etcd can
    # no longer serve anything older: the console's watch gets 410 and must relist.
    ns = "nc-rk-beta"
    put_configmap(real_cluster, ns, "before", "1")
    watcher, sink = configmap_watcher(real_cluster, ns, WatchTiming(watch_seconds=30))
    watcher.start()
    try:
        wait_until(lambda: sink.replaced == 1, 30, "the first list")
        stale = watcher.resource_version
        for i in range(3):
            put_configmap(real_cluster, ns, "churn", str(i))
        wait_until(lambda: sink.items.get((ns, "churn")) == {"v": "2"}, 30, "the churn")
        real_cluster.compact_etcd()
        real_cluster.restart_apiserver()
        with real_cluster.http("admin") as http:
            query = {"watch": "true", "resourceVersion": stale, "timeoutSeconds": "5"}
            path = f"/api/v1/namespaces/{ns}/configmaps"
            with http.stream("GET", path, params=query) as stream:
                first = next(json.loads(line) for line in stream.iter_lines() if line)
        # HTTP 200 and an ERROR event carrying the 410 Status (cacher.go newErrWatcher).
        assert stream.status_code == 200
        assert first["type"] == "ERROR" and first["object"]["code"] == 410, first
        assert first["object"]["reason"] == "Expired"
        put_configmap(real_cluster, ns, "after", "2")
        wait_until(lambda: (ns, "after") in sink.items, 60, "the object made after the restart")
        assert watcher.lists == 2 and sink.replaced == 2
    finally:
        watcher.stop()


def test_nextcloud_selector_lists_only_chart_pods(real_cluster, tenants) -> None:
    pods = real_cluster.get(f"/api/v1/pods?labelSelector={NEXTCLOUD_SELECTOR}")
    namespaces = {p["metadata"]["namespace"] for p in pods["items"]}
    assert {"nc-rk-alpha", "nc-rk-beta"} <= namespaces
    assert "nc-platform" not in namespaces
