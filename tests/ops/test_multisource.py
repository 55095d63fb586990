"""Promotion and rollback of the platform's multi-source Applications (the chart + the values
repo as `ref: values`) as real Argo CD treats them: only the plural revision fields are
written and read (argo-cd controller/state.go, controller/sync.go), a rollback sends the
history entry's revisions and sources (as argocd-server's Rollback does), auto-sync would undo
a rollback, and a ComparisonError is a problem that blocks later waves."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncconsole.kube.views import revision_key
from ncconsole.ops.audit import read_audit
from ncconsole.ops.errors import OpsError, Refused
from ncconsole.ops.promotion import (
    GateRefused,
    Phase,
    PromotionOptions,
    plan_rollback,
    run_rollback,
)
from ncconsole.ops.promotion.session import WaveSession
from tests.ops.waves_helpers import UPGRADE, app_json, head, images, platform, target

pytestmark = pytest.mark.timeout(90)
NEW, OLD = ("nextcloud:30.0.8-apache",), ("nextcloud:30.0.6-apache",)


def fleet(*names: tuple[str, int]) -> list[dict]:
    return [{"name": n, "wave": w, "replicas": 1} for n, w in names]


def patch_app(session: WaveSession, tenant: str, patch: dict) -> None:
    assert session.conn is not None
    session.conn.request_json(
        "PATCH", f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/nc-{tenant}",
        None, patch, content_type="application/merge-patch+json",
    )  # fmt: skip


def rollback(session: WaveSession, tenant: str, **kw):
    assert session.conn is not None
    plan = plan_rollback(session.conn, session.settings, tenant, kw.pop("to_id", None))
    return plan, run_rollback(
        session.conn, session.settings, plan, run_smoke=session.smoke(ignore=("argocd",)),
        confirmed=True, auditor=session.auditor, timeout=30, **kw,
    )  # fmt: skip


def test_promote_pinned_revision_and_roll_back_with_the_history_sources(tmp_path: Path) -> None:
    with platform(tmp_path, fleet(("canary", 0)), pending_upgrade=UPGRADE) as (sim, session):
        # A commit prefix names the fleet's target: the old code patched sync.revision
        # (ignored for a multi-source app) and then waited for it until the timeout.
        report = session.promotion(PromotionOptions(wave=0, revision=head(sim)[:8])).run()
        assert report.outcome == "promoted", report.as_dict()
        assert report.revision == target(sim)
        sent = app_json(session, "canary")["status"]["operationState"]["operation"]["sync"]
        assert sent["revisions"] == ["6.6.9", head(sim)] and "revision" not in sent
        assert images(session, "canary") == NEW

        plan, done = rollback(session, "canary")
        assert plan.target_revision.startswith("6.6.4,") and plan.sources
        assert plan.describe().endswith(f"to history 0 (6.6.4@{plan.target_revision[6:13]})")
        assert done.phase == Phase.DONE, done.message
        assert done.message.startswith("rolled back to 6.6.4@")
        app = app_json(session, "canary")
        sent = app["status"]["operationState"]["operation"]["sync"]
        assert sent["revisions"] == plan.target_revision.split(",")
        assert [s["repoURL"] for s in sent["sources"]] == [s["repoURL"] for s in plan.sources]
        assert revision_key(app["status"]["history"][-1], True) == plan.target_revision
        assert images(session, "canary") == OLD
        line = read_audit()[-1]
        assert line["action"] == "rollback" and line["args"]["revision"] == plan.target_revision


def test_rollback_is_refused_while_auto_sync_would_undo_it(tmp_path: Path) -> None:
    with platform(tmp_path, fleet(("canary", 0)), pending_upgrade=UPGRADE) as (_, session):
        assert session.promotion(PromotionOptions(wave=0)).run().outcome == "promoted"
        patch_app(session, "canary", {"spec": {"syncPolicy": {"automated": {"prune": True}}}})
        with pytest.raises(Refused) as refused:
            rollback(session, "canary")
        assert "auto-sync on (syncPolicy.automated)" in str(refused.value)
        assert "--force" in str(refused.value) and images(session, "canary") == NEW
        _, done = rollback(session, "canary", force=True)
        assert done.phase == Phase.DONE and images(session, "canary") == OLD
        assert read_audit()[-1]["args"]["forced"] is True


def test_rollback_refuses_an_entry_argo_cd_cannot_sync(tmp_path: Path) -> None:
    """A history entry recorded while the Application had one source names one revision:
    Argo CD cannot sync a two-source Application to it."""
    with platform(tmp_path, fleet(("canary", 0))) as (_, session):
        (current,) = app_json(session, "canary")["status"]["history"]
        again = {**current, "id": 1}  # a re-sync at the same revisions
        patch_app(session, "canary", {"status": {"history": [current, again]}})
        with pytest.raises(OpsError, match="no history entry at other revisions"):
            plan_rollback(session.conn, session.settings, "canary")
        old = {"id": 0, "revision": "1" * 40, "deployedAt": "2026-01-01T00:00:00Z"}
        patch_app(session, "canary", {"status": {"history": [old, again]}})
        with pytest.raises(OpsError, match=r"history 0 records one revision .* one revision per"):
            plan_rollback(session.conn, session.settings, "canary")


def test_a_comparison_error_is_a_problem_and_blocks_later_waves(tmp_path: Path) -> None:
    with platform(tmp_path, fleet(("canary", 0), ("alpha", 1))) as (sim, session):
        path = "values/tenants/tenant-canary.yaml"
        sim.commit("Break canary", {path: (sim.repo / path).read_text() + "x: [unclosed\n"})
        snapshot = session.fleet.wait_for(
            lambda s: bool(s.tenant("canary").app.comparison_error), 15
        )
        canary = snapshot.tenant("canary")
        assert canary.health.value == "failed"  # Argo CD health still says Healthy
        assert canary.app.health_status == "Healthy"
        assert canary.reason.startswith("Argo CD ComparisonError: Failed to load target state")
        overview = session.overview()
        assert any("canary: wave 0: ComparisonError" in str(b) for b in overview.wave(1).blockers)
        assert any("cannot render it" in str(b) for b in overview.wave(0).blockers)
        with pytest.raises(GateRefused, match="ComparisonError"):
            session.promotion(PromotionOptions(wave=1)).run()


def test_a_single_source_platform_promotes_and_rolls_back_too(tmp_path: Path) -> None:
    """Single-source Applications (one Git source, the chart vendored) keep the singular
    fields: the target is the commit, a rollback sends `sync.revision`."""
    single = {"sources": "single"}
    with platform(tmp_path, fleet(("solo", 0)), pending_upgrade=UPGRADE, applicationset=single) as (
        sim,
        session,
    ):
        overview = session.overview()
        assert overview.target_revision == head(sim)  # one revision: the commit
        assert session.promotion(PromotionOptions(wave=0)).run().outcome == "promoted"
        assert images(session, "solo") == NEW
        plan, done = rollback(session, "solo")
        assert "," not in plan.target_revision and not plan.sources
        assert done.phase == Phase.DONE, done.message
        sent = app_json(session, "solo")["status"]["operationState"]["operation"]["sync"]
        assert sent["revision"] == plan.target_revision and "revisions" not in sent
        assert images(session, "solo") == OLD
