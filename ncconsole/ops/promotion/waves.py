"""The waves at a glance, as data: per wave its tenants and how many are at the target
revision, Synced, Healthy and smoke-checked. Whether a wave may be promoted, and why not, is
decided in gates.py (`wave_overview` fills in each wave's blockers).

The mode comes from the owning ApplicationSet (DOMAIN.md §2): manual/AllAtOnce, where the
console drives every sync, or RollingSync, where the console promotes only steps with
`maxUpdate: 0` and flags Applications matched by no step (step -1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from ncconsole.fleet.health import (
    app_settled,
    at_revision,
    autosync_undoes,
    clip,
    deployed_revision,
    sync_busy,
)
from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.kube import revisions
from ncconsole.kube.appset_strategy import AppSetStrategy, RollingStep
from ncconsole.ops.promotion.model import Blocker, SmokeOutcome

MANUAL, ROLLING = "manual", "rolling_sync"


@dataclass(frozen=True)
class TenantWave:
    """One tenant as the wave view and the gates see it."""

    tenant: str
    app: str
    wave: int
    namespace: str
    exists: bool  # its Application was seen
    synced: bool
    healthy: bool
    at_target: bool  # Synced at the target revision
    revision: str
    busy: str  # "" or why a sync is in progress
    health: str
    sync: str
    smoke: SmokeOutcome | None  # the latest recorded, fresh or not
    smoke_fresh: bool  # passed-or-failed at the target revision within the max age
    # Synced and Healthy at the target revision, nothing running (fleet/health.app_settled).
    settled: bool = False
    step: int | None = None  # RollingSync step (1-based; -1 = no step), None in manual mode
    step_status: str = ""  # RollingSync applicationStatus status
    # The fleet's health word (fleet/health.py), what the fleet screen shows for the tenant.
    state: str = ""
    # Argo CD cannot render the Application (a ComparisonError condition's message, clipped).
    comparison_error: str = ""
    # Auto-sync would sync it straight back from the target ("" when not; health.autosync_undoes).
    autosync: str = ""
    # What it last synced to: the newest history entry's revision key ("" when never synced).
    deployed: str = ""

    def problems(self) -> list[str]:
        """Why this tenant is not settled, in words."""
        if not self.exists:
            return ["no Application"]
        out = []
        if self.comparison_error:
            out.append(f"ComparisonError: {self.comparison_error}")
        if self.busy:
            out.append(self.busy)
        if not self.healthy:
            out.append(self.health or "health Unknown")
        if not self.synced:
            out.append(self.sync or "sync Unknown")
        elif not self.at_target:
            out.append(f"at revision {revisions.short(self.revision)}, not the target")
        return out


@dataclass(frozen=True)
class WaveStatus:
    wave: int
    tenants: tuple[TenantWave, ...]
    blockers: tuple[Blocker, ...]  # why it may not be promoted now
    step: int | None = None  # its RollingSync step
    step_max_update: object = None
    settled: bool = False  # every tenant already at the target: nothing to promote

    @property
    def promotable(self) -> bool:
        return not self.blockers and not self.settled

    def count(self, attr: str) -> int:
        return sum(1 for t in self.tenants if getattr(t, attr))

    def health_summary(self) -> str:
        """ "4/5 ⚠1": healthy as the fleet screen says it, and how many are in maintenance
        (planned, counted apart, so the two screens agree)."""
        healthy = sum(1 for t in self.tenants if t.state == Health.HEALTHY.value)
        maintenance = sum(1 for t in self.tenants if t.state == Health.MAINTENANCE.value)
        text = f"{healthy}/{len(self.tenants)}"
        return f"{text} ⚠{maintenance}" if maintenance else text

    @property
    def smoke_passed(self) -> int:
        return sum(1 for t in self.tenants if t.smoke_fresh and t.smoke and t.smoke.passed)


@dataclass(frozen=True)
class WaveOverview:
    mode: str
    appset: str
    target_revision: str
    waves: tuple[WaveStatus, ...]
    unmatched: tuple[str, ...] = ()  # RollingSync: applications matched by no step
    steps: tuple[str, ...] = ()  # RollingSync: each step in words, e.g. "2: wave In 1 (manual)"

    def wave(self, number: int) -> WaveStatus | None:
        return next((w for w in self.waves if w.wave == number), None)


def fleet_revision(snapshot: FleetSnapshot) -> str:
    """The revision key Argo CD compares the fleet with: the most common `sync.revision(s)`
    (for the platform's multi-source Applications: the chart version and the values commit)."""
    counts = Counter(t.app.sync_revision for t in snapshot.tenants if t.app and t.app.sync_revision)
    return counts.most_common(1)[0][0] if counts else ""


def resolve_revision(snapshot: FleetSnapshot, given: str) -> str:
    """The revision key `given` names (a key, CHART@COMMIT, a commit or its prefix, a chart
    version; kube/revisions.resolve), looked up among what the fleet compares with and has
    deployed; the fleet's own when `given` is empty."""
    current = fleet_revision(snapshot)
    known = [current]
    for tenant in snapshot.tenants:
        if tenant.app is not None:
            known.append(tenant.app.sync_revision)
            known += [entry.revision for entry in tenant.app.history]
    return revisions.resolve(given, known, fallback=current)


def tenant_wave(
    tenant: TenantState,
    revision: str,
    max_age: timedelta,
    strategy: AppSetStrategy | None,
) -> TenantWave:
    app = tenant.app
    synced = app is not None and app.sync_status == "Synced"
    step, step_status = None, ""
    if strategy is not None and strategy.type == "RollingSync" and app is not None:
        step = strategy.step_of(app.labels)
        step_status = (strategy.application_status.get(app.name) or ("", "", "", ()))[1]
    health = (app.health_status if app else "") or "Unknown"
    message = f": {app.health_message}" if app and app.health_message else ""
    return TenantWave(
        tenant=tenant.name,
        app=tenant.app_name,
        wave=tenant.wave if tenant.wave is not None else -1,
        namespace=tenant.namespace,
        exists=app is not None,
        synced=synced,
        healthy=app is not None and app.health_status == "Healthy",
        at_target=at_revision(app, revision),
        revision=app.sync_revision if app else "",
        busy=sync_busy(app),
        health=f"{health}{message}",
        sync=app.sync_status if app else "",
        smoke=tenant.smoke,
        smoke_fresh=tenant.smoke is not None and tenant.smoke.fresh(revision, max_age),
        settled=app_settled(app, revision),
        step=step,
        step_status=step_status,
        state=tenant.health.value,
        comparison_error=clip(app.comparison_error) if app else "",
        autosync=autosync_undoes(app, revision),
        deployed=deployed_revision(app),
    )


def describe_step(step: RollingStep) -> str:
    match = ", ".join(
        f"{e.get('key')} {e.get('operator', 'In')} " + ",".join(map(str, e.get("values") or []))
        for e in step.match_expressions
    )
    how = "manual" if step.max_update == 0 else f"maxUpdate {max_update_words(step.max_update)}"
    return f"{step.index}: {match or 'everything'} ({how})"


def max_update_words(max_update: object) -> str:
    return "unset: all at once" if max_update is None else str(max_update)
