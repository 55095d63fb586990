"""Wave promotion against the simulator: gates, Lease, progress, failures, halt, interrupt,
timeout, RollingSync and rollback - with what the audit trail says about each."""

from __future__ import annotations

import getpass
import threading
from pathlib import Path

import pytest

from ncconsole.kube.appset_strategy import appset_path
from ncconsole.kube.lease import PromotionLease, lease_holder
from ncconsole.ops.audit import read_audit
from ncconsole.ops.errors import AccessDenied, ReadOnlyRefused
from ncconsole.ops.promotion import (
    GateRefused,
    Phase,
    PromotionOptions,
    PromotionReport,
    TenantProgress,
    plan_rollback,
    run_rollback,
)
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.ops.promotion.smoke_runner import SmokeRecord
from tests.ops.waves_helpers import UPGRADE, app_json, images, platform, sim_settings, target

pytestmark = pytest.mark.timeout(60)
NEW, OLD = ("nextcloud:30.0.8-apache",), ("nextcloud:30.0.6-apache",)


def tenants(*specs: tuple[str, int, dict]) -> list[dict]:
    return [{"name": n, "wave": w, "replicas": 1, "faults": f} for n, w, f in specs]


def promote(session: WaveSession, wave: int, **options) -> PromotionReport:
    return session.promotion(PromotionOptions(wave=wave, **options)).run()


def test_wave_1_is_promoted_after_the_canary_with_smoke_checks(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}), ("alpha", 1, {}), ("beta", 1, {}), ("gamma", 2, {}))
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE) as (sim, session):
        overview = session.overview()
        assert overview.mode == "manual" and overview.target_revision == target(sim)
        wave1 = overview.wave(1)
        assert wave1 is not None and not wave1.promotable
        assert "canary: wave 0: OutOfSync" in str(wave1.blockers[0])
        seen: list[TenantProgress] = []
        canary = session.promotion(PromotionOptions(wave=0), seen.append).run()
        assert canary.outcome == "promoted" and canary.exit_code == 0
        assert [p.phase for p in seen if p.tenant == "canary"][-1] == Phase.DONE
        assert {Phase.SYNCING, Phase.SMOKE} <= {p.phase for p in seen}
        op = app_json(session, "canary")["status"]["operationState"]["operation"]
        assert op["initiatedBy"] == {"username": f"ncconsole:{getpass.getuser()}"}
        assert {"name": "Reason", "value": "ncconsole: promote wave 0"} in op["info"]
        report = promote(session, 1, concurrency=2)
        assert report.outcome == "promoted", report.as_dict()
        assert {t.tenant: t.phase for t in report.tenants} == {
            "alpha": Phase.DONE, "beta": Phase.DONE,
        }  # fmt: skip
        assert images(session, "alpha") == NEW and images(session, "gamma") == OLD
        smoke = SmokeRecord().load()
        assert {"canary", "alpha", "beta"} <= set(smoke) and smoke["alpha"].passed
        assert smoke["alpha"].revision == target(sim)
        lines = [e for e in read_audit() if e["action"] == "wave promote"]
        assert [(e["target"], e["result"]) for e in (lines[-4], lines[-1])] == [
            ("wave 1", "started"), ("wave 1", "ok"),
        ]  # fmt: skip
        assert sorted((e["target"], e["result"]) for e in lines[-3:-1]) == [
            ("nc-alpha/nc-alpha", "ok"), ("nc-beta/nc-beta", "ok"),
        ]  # fmt: skip
        assert lease_holder(session.promotion(PromotionOptions(wave=2)).lease.read()) == ""


def test_a_degraded_canary_refuses_wave_1_naming_it(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {"degraded": True}), ("alpha", 1, {}))
    with platform(tmp_path, fleet) as (_, session):
        session.fleet.wait_for(lambda s: s.tenant("canary").app.health_status == "Degraded", 10)
        with pytest.raises(GateRefused) as refused:
            promote(session, 1)
        assert refused.value.exit_code == 3
        assert "canary: wave 0: Degraded" in str(refused.value)
        assert images(session, "alpha") == OLD
        (line,) = [e for e in read_audit() if e["action"] == "wave promote"]
        assert line["result"] == "refused" and "canary" in line["message"]


def test_a_canary_failing_its_smoke_checks_refuses_wave_1(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {"maintenance": True}), ("alpha", 1, {}))
    with platform(tmp_path, fleet) as (_, session):
        with pytest.raises(GateRefused) as refused:
            promote(session, 1)
        assert "canary: wave 0: smoke checks failed: status.php" in str(refused.value)
        assert "maintenance" in str(refused.value)
        recorded = SmokeRecord().load()["canary"]
        assert not recorded.passed and any("maintenance" in r for r in recorded.reasons)
        assert images(session, "alpha") == OLD


def test_a_failing_tenant_stops_the_rest_of_its_wave(tmp_path: Path) -> None:
    fleet = tenants(
        ("canary", 0, {}), ("alpha", 1, {"sync_fails": True}), ("beta", 1, {}), ("gamma", 1, {})
    )
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE) as (_, session):
        assert promote(session, 0).outcome == "promoted"
        report = promote(session, 1, concurrency=1)
        phases = {t.tenant: (t.phase, t.message) for t in report.tenants}
        assert phases["alpha"][0] == Phase.FAILED and "admission webhook" in phases["alpha"][1]
        assert phases["beta"] == (Phase.SKIPPED, "not started: alpha failed")
        assert phases["gamma"][0] == Phase.SKIPPED
        assert report.outcome == "failed" and report.exit_code == 1
        assert images(session, "beta") == OLD
        go_on = promote(session, 1, concurrency=1, continue_on_error=True)
        assert {t.tenant: t.phase for t in go_on.tenants} == {
            "alpha": Phase.FAILED, "beta": Phase.DONE, "gamma": Phase.DONE,
        }  # fmt: skip


def test_a_second_promotion_is_refused_by_the_lease(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}), ("alpha", 1, {}))
    slow = {"sync": 1.5}
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE, timings=slow) as (_, session):
        syncing = threading.Event()
        first = session.promotion(
            PromotionOptions(wave=0), lambda p: p.phase == Phase.SYNCING and syncing.set()
        )
        result: list[PromotionReport] = []
        runner = threading.Thread(target=lambda: result.append(first.run()))
        runner.start()
        assert syncing.wait(10)
        with pytest.raises(GateRefused, match=r"held by .*@.*\(wave 0\)"):
            promote(session, 0)
        runner.join(20)
        assert result and result[0].outcome == "promoted"
        other = PromotionLease(session.conn, "argocd", holder="ann@elsewhere")
        other.acquire()
        with pytest.raises(GateRefused, match="held by ann@elsewhere"):
            promote(session, 1)
        other.release()


def test_interrupt_releases_the_lease_and_is_audited(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}))
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE, timings={"sync": 3}) as (_, session):
        promotion = session.promotion(
            PromotionOptions(wave=0),
            lambda p: (
                p.phase == Phase.SYNCING
                and p.message != "requesting sync"
                and promotion.interrupt()
            ),
        )
        report = promotion.run()
        assert report.outcome == "interrupted" and report.exit_code == 130
        assert report.tenants[0].phase == Phase.INTERRUPTED
        assert lease_holder(promotion.lease.read()) == ""
        last = [e for e in read_audit() if e["action"] == "wave promote"][-1]
        assert last["result"] == "interrupted" and last["exit_code"] == 130


def test_halt_finishes_the_running_tenant_and_starts_no_more(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}), ("zulu", 0, {}))
    # Single-source until the fleet's views read multi-source revisions (issue 11).
    single = {"sources": "single"}
    extra = {"pending_upgrade": UPGRADE, "timings": {"sync": 1}, "applicationset": single}
    with platform(tmp_path, fleet, **extra) as (_, s):
        promotion = s.promotion(
            PromotionOptions(wave=0, concurrency=1),
            lambda p: p.phase == Phase.SYNCING and promotion.halt(),
        )
        report = promotion.run()
        phases = {t.tenant: t.phase for t in report.tenants}
        assert phases == {"canary": Phase.DONE, "zulu": Phase.SKIPPED}
        assert report.outcome == "halted" and report.exit_code == 1
        wave_lines = [e for e in read_audit() if e["target"] == "wave 0"]
        # The start, the halt, then the end: "halted", never "failed".
        assert [e["result"] for e in wave_lines] == ["started", "halted", "halted"]
        assert wave_lines[-1]["message"] == "halted before every tenant was promoted"


def test_a_tenant_that_takes_too_long_times_out(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}))
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE, timings={"sync": 3}) as (_, session):
        report = promote(session, 0, timeout=0.5)
        (canary,) = report.tenants
        assert canary.phase == Phase.FAILED and canary.message.startswith("timed out after 0.5 s")
        assert lease_holder(session.promotion(PromotionOptions(wave=0)).lease.read()) == ""


def test_read_only_mode_and_missing_rights_refuse_to_promote(tmp_path: Path) -> None:
    with platform(tmp_path, tenants(("canary", 0, {}))) as (sim, _):
        session = WaveSession(sim_settings(sim, read_only=True)).open()
        try:
            with pytest.raises(ReadOnlyRefused, match="promote wave 0"):
                promote(session, 0)
        finally:
            session.close()
        viewer = sim.write_kubeconfig(tmp_path / "viewer", user="viewer")
        session = WaveSession(sim_settings(sim, kubeconfig=viewer)).open()
        try:
            with pytest.raises(AccessDenied, match=r"may not patch applications\.argoproj\.io"):
                promote(session, 0)
        finally:
            session.close()


def test_rolling_sync_promotes_only_manual_steps(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}), ("alpha", 1, {}), ("gamma", 2, {}), ("stray", 7, {}))
    appset = {"mode": "rolling_sync", "steps": [
        {"waves": [0]}, {"waves": [1], "max_update": 0}, {"waves": [2], "max_update": 1},
    ]}  # fmt: skip
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE, applicationset=appset) as (_, s):

        def canary_rolled(snap) -> bool:  # the ApplicationSet controller synced step 1
            app = snap.tenant("canary").app
            return (
                app.images == NEW and app.health_status == "Healthy" and app.sync_status == "Synced"
            )

        s.fleet.wait_for(canary_rolled, 15)
        overview = s.overview()
        assert overview.mode == "rolling_sync" and overview.unmatched == ("nc-stray",)
        assert overview.steps[1] == "2: wave In 1 (manual)"
        assert overview.steps[2] == "3: wave In 2 (maxUpdate 1)"
        assert [t.step for t in overview.wave(1).tenants] == [2]
        gamma = overview.wave(2)
        assert any("maxUpdate 1" in str(b) for b in gamma.blockers)
        assert any("step -1" in str(b) for b in overview.wave(7).blockers)
        report = promote(s, 1)
        assert report.mode == "rolling_sync" and report.outcome == "promoted", report.as_dict()
        assert images(s, "alpha") == NEW


def test_rollback_returns_the_tenant_to_the_previous_revision(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}))
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE) as (_, session):
        assert promote(session, 0).outcome == "promoted"
        assert images(session, "canary") == NEW
        plan = plan_rollback(session.conn, session.settings, "canary")
        assert plan.target_id == plan.current_id - 1
        done = run_rollback(
            session.conn, session.settings, plan, run_smoke=session.smoke(ignore=("argocd",)),
            confirmed=True, auditor=session.auditor, timeout=20,
        )  # fmt: skip
        assert done.phase == Phase.DONE, done.message
        assert images(session, "canary") == OLD
        line = read_audit()[-1]
        assert line["action"] == "rollback" and line["result"] == "ok"
        assert line["args"]["history_id"] == plan.target_id


def test_a_lease_taken_over_mid_promotion_starts_no_more_tenants(tmp_path: Path) -> None:
    fleet = tenants(("anna", 0, {}), ("bert", 0, {}))
    with platform(tmp_path, fleet, pending_upgrade=UPGRADE, timings={"sync": 1.5}) as (_, s):
        lease = PromotionLease(s.conn, "argocd", duration=3)  # renewed every second

        def take_over(p: TenantProgress) -> None:
            if p.tenant == "anna" and p.phase == Phase.SYNCING and p.message == "requesting sync":
                current = lease.read()
                current["metadata"]["annotations"]["ncconsole.io/session"] = "someone-else"
                s.conn.request_json("PUT", lease.path, None, current)

        promotion = s.promotion(PromotionOptions(wave=0, concurrency=1), take_over)
        promotion.lease = lease
        report = promotion.run()
        phases = {t.tenant: (t.phase, t.message) for t in report.tenants}
        assert phases["anna"][0] == Phase.DONE
        assert phases["bert"] == (
            Phase.SKIPPED,
            "not started: the promotion Lease was taken over or deleted",
        )
        assert report.outcome == "failed" and "taken over" in report.message


def test_the_strategy_is_read_once_per_session_and_on_refresh(tmp_path: Path) -> None:
    fleet = tenants(("canary", 0, {}), ("alpha", 1, {}))
    appset = {"mode": "rolling_sync", "steps": [{"waves": [0]}, {"waves": [1], "max_update": 0}]}
    with platform(tmp_path, fleet, applicationset=appset) as (_, s):
        assert s.conn is not None
        path = appset_path(s.settings.argocd_namespace, s.settings.applicationset)
        s.conn.request_json("DELETE", path, None, None)
        # Read when the session opened: one read serves the overview and every promotion.
        assert s.overview().mode == "rolling_sync"
        promotion = s.promotion(PromotionOptions(wave=1, dry_run=True))
        plan = promotion.plan()
        assert plan.mode == "rolling_sync" and plan.tenants() == ["alpha"]
        assert promotion.run(plan).mode == "rolling_sync"
        assert s.refresh_strategy() is None and s.overview().mode == "manual"
