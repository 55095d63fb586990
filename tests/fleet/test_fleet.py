"""FleetState against the simulator's real HTTPS API server: what a user of the console sees."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ncconsole.fleet.join import DesiredTenant, TenantInputs, build_tenant
from ncconsole.fleet.model import Health, KindState
from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.fleet.state import FleetState
from ncconsole.kube.views import parse_app, parse_deployment, parse_pod
from ncconsole.kube.watch import KindStatus, WatchTiming
from ncconsole.probes.results import BucketProbe, StatusPhpProbe
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import APPLICATIONS, NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from tests.cluster_objects import add_tenant, app, deployment, pod
from tests.gitops.repo_builder import tenant_yaml, write_repo

pytestmark = pytest.mark.timeout(30)

FAST = WatchTiming(
    watch_seconds=30,
    backoff_base=0.05,
    backoff_max=0.3,
    forbidden_retry=0.3,
    heartbeat_seconds=0.3,
)


def make_repo(root: Path) -> Path:
    return write_repo(
        root,
        {
            "tenant-canary.yaml": tenant_yaml("canary", wave='"0"'),
            "tenant-alpha.yaml": tenant_yaml("alpha", wave='"1"'),
            "tenant-beta.yaml": tenant_yaml("beta", wave='"2"'),
            "tenant-fresh.yaml": tenant_yaml("fresh", wave='"2"'),
        },
    )


def populate(sim: SimServer) -> None:
    sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
    add_tenant(sim, "canary", 0)
    add_tenant(sim, "alpha", 1)
    add_tenant(sim, "beta", 1)  # the file says wave 2: drift
    add_tenant(sim, "ghost", 3)  # no tenant file: orphan
    # "fresh" has a file but no Application: not deployed


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path / "tls") as server:
        populate(server)
        yield server


def settings_for(sim: SimServer, tmp_path: Path) -> Settings:
    kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
    return Settings(kubeconfig=kubeconfig, repo=make_repo(tmp_path / "repo"))


@pytest.fixture
def fleet(sim: SimServer, tmp_path: Path) -> Iterator[FleetState]:
    state = FleetState(settings_for(sim, tmp_path), timing=FAST, probes=False)
    state.start()
    yield state
    state.stop()


def complete(snapshot) -> bool:
    return snapshot.complete and len(snapshot.tenants) == 5


def test_initial_list_joins_repo_and_cluster_with_drift(fleet: FleetState) -> None:
    snap = fleet.wait_for(complete, 10)
    by_name = {t.name: t for t in snap.tenants}
    assert [t.name for t in snap.tenants] == ["canary", "alpha", "beta", "fresh", "ghost"]
    assert snap.context == "ncconsole-sim" and snap.cluster.startswith("https://127.0.0.1:")
    assert snap.waves() == [0, 1, 2, 3]
    canary = by_name["canary"]
    assert canary.health is Health.HEALTHY and canary.drift == ()
    assert canary.deployment is not None and canary.deployment.ready_replicas == 1
    assert [p.name for p in canary.pods] == ["nextcloud-canary-0"]
    assert by_name["fresh"].drift == ("not deployed",)
    assert by_name["fresh"].health is Health.MISSING
    assert by_name["ghost"].drift == ("orphan",) and not by_name["ghost"].in_repo
    assert by_name["ghost"].wave == 3
    assert by_name["beta"].drift == ("wave label 1 differs from file wave 2",)
    assert snap.api_reachable and all(
        k.status is KindStatus.LIVE for k in (snap.kinds["pods"], snap.kinds["applications"])
    )


def test_crash_looping_pod_and_degraded_app_show_up(sim: SimServer, fleet: FleetState) -> None:
    fleet.wait_for(complete, 10)
    crashed = pod("alpha", "nextcloud-alpha-0", ready=False, waiting="CrashLoopBackOff")
    sim.call(sim.store.update, PODS, "nc-alpha", "nextcloud-alpha-0", lambda _: crashed)
    snap = fleet.wait_for(lambda s: s.tenant("alpha").health is Health.DEGRADED, 5)
    assert snap.tenant("alpha").reason == "CrashLoopBackOff (3 restarts)"
    assert snap.tenant("alpha").pods[0].restarts == 3

    degraded = app("canary", 0, health="Degraded")
    degraded["status"]["health"]["message"] = "Deployment nextcloud exceeded its deadline"
    sim.call(sim.store.update, APPLICATIONS, "argocd", "nc-canary", lambda _: degraded)
    snap = fleet.wait_for(lambda s: s.tenant("canary").health is Health.DEGRADED, 5)
    assert snap.tenant("canary").reason.startswith("Argo CD Degraded: Deployment nextcloud")

    sim.call(sim.store.delete, PODS, "nc-alpha", "nextcloud-alpha-0")
    snap = fleet.wait_for(lambda s: s.tenant("alpha").pods == (), 5)
    assert snap.tenant("alpha").reason == "0/1 pods ready"


def test_a_tenant_file_added_to_the_repo_shows_up_as_not_deployed(
    sim: SimServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    state = FleetState(settings, timing=FAST, probes=False, repo_poll=0.1)
    state.start()
    try:
        state.wait_for(complete, 10)
        new_file = settings.repo / "values/tenants/tenant-newbie.yaml"
        new_file.write_text(tenant_yaml("newbie", wave='"3"'))
        snap = state.wait_for(lambda s: s.tenant("newbie") is not None, 5)
        assert snap.tenant("newbie").drift == ("not deployed",)
        assert snap.tenant("newbie").wave == 3
    finally:
        state.stop()


def test_a_tenant_file_edited_in_place_is_read_again(sim: SimServer, tmp_path: Path) -> None:
    settings = settings_for(sim, tmp_path)
    # repo_poll is how soon a change is noticed; file events tell the console, not polling.
    state = FleetState(settings, timing=FAST, probes=False, repo_poll=0.1)
    state.start()
    try:
        state.wait_for(complete, 10)
        tenant_file = settings.repo / "values/tenants/tenant-alpha.yaml"
        with open(tenant_file, "r+", encoding="utf-8") as fh:  # same file, new content
            text = fh.read()
            fh.seek(0)
            fh.write(text.replace("environment: prod", "environment: test"))
            fh.truncate()
        snap = state.wait_for(lambda s: s.tenant("alpha").environment == "test", 5)
        assert snap.tenant("alpha").environment == "test"
    finally:
        state.stop()


def test_subscribers_get_coalesced_snapshots_on_a_background_thread(
    sim: SimServer, fleet: FleetState
) -> None:
    first = fleet.wait_for(complete, 10)
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def on_snapshot(snapshot) -> None:
        seen.append((snapshot.version, threading.current_thread().name))
        if len(snapshot.tenant("alpha").pods) == 11:
            done.set()

    unsubscribe = fleet.subscribe(on_snapshot)

    def burst() -> None:  # ten changes at once, as a rollout would make them
        for i in range(1, 11):
            sim.store.create(PODS, pod("alpha", f"nextcloud-alpha-extra-{i}"))

    sim.call(burst)
    assert done.wait(5)
    unsubscribe()
    # Ten quick changes arrive as far fewer snapshots, never on the test's thread.
    assert len(seen) <= 3
    assert all(name == "fleet" for _, name in seen)
    assert all(version > first.version for version, _ in seen)


def test_forbidden_kind_is_marked_and_the_rest_still_works(sim: SimServer, tmp_path: Path) -> None:
    sim.call(sim.auth.deny, DenyRule(resources=("events",)))
    state = FleetState(settings_for(sim, tmp_path), timing=FAST, probes=False)
    state.start()
    try:
        # Forbidden across namespaces, then (per namespace) in every one: forbidden.
        snap = state.wait_for(
            lambda s: complete(s) and s.kinds["events"].status is KindStatus.FORBIDDEN, 10
        )
        assert snap.kinds["pods"].status is KindStatus.LIVE
        assert snap.tenant("canary").health is Health.HEALTHY
        # Access granted later: the kind comes back by itself.
        sim.call(sim.auth.deny_rules.clear)
        state.wait_for(lambda s: s.kinds["events"].status is KindStatus.LIVE, 5)
    finally:
        state.stop()


def test_api_going_away_is_reported_and_recovers(tmp_path: Path) -> None:
    store = Store()
    first = SimServer(tls_dir=tmp_path / "tls", store=store, admin_token="t0ken").start()
    populate(first)
    port = first.port
    state = FleetState(settings_for(first, tmp_path), timing=FAST, probes=False)
    state.start()
    try:
        state.wait_for(complete, 10)
        # SimServer.stop() waits for its open watch streams; stop it beside the test, as a
        # server going away would, and let the console notice on its own.
        threading.Thread(target=first.stop, daemon=True).start()
        snap = state.wait_for(lambda s: not s.api_reachable, 10)
        assert "127.0.0.1" in snap.api_error
        assert snap.tenant("canary").health is Health.HEALTHY  # last known state is kept
        second = SimServer(port=port, tls_dir=tmp_path / "tls2", store=store, admin_token="t0ken")
        second.tls = first.tls  # the same CA, as a restarted API server keeps its certificate
        second.start()
        try:
            second.call(store.create, PODS, pod("alpha", "nextcloud-alpha-1"))
            snap = state.wait_for(
                lambda s: s.api_reachable and len(s.tenant("alpha").pods) == 2, 10
            )
            assert snap.api_error == ""
        finally:
            second.stop()
    finally:
        state.stop()


# -- health words and reasons, from the parts a tenant is made of ------------------------


def _parts(**kw):
    now = datetime.now(UTC)
    defaults = dict(
        desired=DesiredTenant("a", 1, "prod", "a.example.com", "nextcloud-a"),
        app=parse_app(app("a", 1)),
        pods=(parse_pod(pod("a", "nextcloud-a-0")),),
        deployments=(parse_deployment(deployment("a")),),
        events=(),
        web=StatusPhpProbe(
            now,
            5.0,
            ok=True,
            http_status=200,
            installed=True,
            maintenance=False,
            needs_db_upgrade=False,
        ),
        s3=BucketProbe(now, 5.0, "ok"),
    )
    return TenantInputs(**(defaults | kw))


def _assess(parts):
    live = {k: KindState(KindStatus.LIVE) for k in ("pods", "applications", "secretstore")}
    return build_tenant("a", parts, Settings(), live, True)


def test_health_words_and_reasons() -> None:
    healthy = _parts()
    assert (_assess(healthy).health, _assess(healthy).reason) == (Health.HEALTHY, "")
    maintenance = replace(healthy.web, ok=False, maintenance=True, error="maintenance mode")
    tenant = _assess(_parts(web=maintenance))
    assert (tenant.health, tenant.reason) == (Health.MAINTENANCE, "maintenance on")
    tenant = _assess(_parts(s3=BucketProbe(healthy.s3.checked_at, 1.0, "missing")))
    assert (tenant.health, tenant.reason) == (Health.DEGRADED, "bucket missing")
    tenant = _assess(_parts(s3=BucketProbe(healthy.s3.checked_at, 1.0, "no-credentials")))
    assert tenant.health is Health.HEALTHY
    down = replace(healthy.web, ok=False, error="timeout after 5 s")
    tenant = _assess(_parts(web=down, pods=()))
    assert tenant.health is Health.DEGRADED
    assert tenant.reason == "status.php: timeout after 5 s"
    failed = app("a", 1)
    failed["status"]["operationState"] = {"phase": "Failed", "message": "hook failed"}
    tenant = _assess(_parts(app=parse_app(failed)))
    assert (tenant.health, tenant.reason) == (Health.FAILED, "sync Failed: hook failed")


def test_slow_api_shows_as_not_answering_but_changes_still_arrive(
    sim: SimServer, tmp_path: Path
) -> None:
    timing = replace(FAST, heartbeat_seconds=0.2, heartbeat_timeout=0.3)
    state = FleetState(settings_for(sim, tmp_path), timing=timing, probes=False)
    state.start()
    try:
        state.wait_for(complete, 10)
        sim.call(setattr, sim.api.faults, "latency", 0.8)
        snap = state.wait_for(lambda s: not s.api_reachable, 10)
        assert snap.api_error.startswith("timeout talking to")
        sim.call(sim.store.create, PODS, pod("alpha", "nextcloud-alpha-slow"))
        state.wait_for(lambda s: len(s.tenant("alpha").pods) == 2, 10)
        sim.call(setattr, sim.api.faults, "latency", 0.0)
        state.wait_for(lambda s: s.api_reachable, 10)
    finally:
        state.stop()


def test_each_tenant_carries_its_last_smoke_outcome_on_this_cluster_only(
    sim: SimServer, tmp_path: Path
) -> None:
    """Same tenant names on two clusters (accept and prod, or an earlier demo): only this
    cluster's results count; another's pass must not look like this tenant's."""
    record = SmokeRecord(tmp_path / "state" / "smoke-results.json")
    settings = settings_for(sim, tmp_path)
    state = FleetState(settings, timing=FAST, probes=False, repo_poll=0.1, smoke_record=record)
    state.start()
    try:
        cluster = state.wait_for(complete, 10).cluster
        at = datetime(2026, 3, 4, tzinfo=UTC)
        record.save_many(
            {
                "canary": SmokeOutcome(True, (), at, "r1", "pass", "https://other:6443"),
                "alpha": SmokeOutcome(False, ("pods: no pods",), at, "r1", "fail", cluster),
            }
        )
        snap = state.wait_for(lambda s: s.tenant("alpha").smoke is not None, 5)
        assert snap.tenant("alpha").smoke.result == "fail"
        assert snap.tenant("canary").smoke is None and snap.smoke_problem == ""
        # This process's own result shows at once, before the file is written.
        state.note_smoke({"canary": SmokeOutcome(True, (), at, "r1", "pass", cluster)})
        snap = state.wait_for(lambda s: s.tenant("canary").smoke is not None, 5)
        assert snap.tenant("canary").smoke.passed
        record.path.write_text('{"alpha": {"passed": tr', encoding="utf-8")
        snap = state.wait_for(lambda s: s.smoke_problem != "", 5)
        assert snap.smoke_problem.startswith(f"smoke record {record.path} is unreadable")
        assert all(t.smoke is None for t in snap.tenants)
    finally:
        state.stop()
