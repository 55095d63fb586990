"""The waves at a glance: per wave its tenants, how many are at the target revision, Synced,
Healthy and smoke-checked, and whether it may be promoted (and if not, why).

The mode comes from the owning ApplicationSet (DOMAIN.md §2): manual/AllAtOnce, where the
console drives every sync, or RollingSync, where the console promotes only steps with
`maxUpdate: 0` and flags Applications matched by no step (step -1). Every Application's own
revision is checked either way: RollingSync's status can be stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from ncconsole.fleet.health import app_settled, at_revision, sync_busy
from ncconsole.fleet.model import FleetSnapshot, TenantState
from ncconsole.fleet.smoke_record import for_cluster
from ncconsole.kube.appset_strategy import AppSetStrategy, RollingStep
from ncconsole.ops.promotion.model import Blocker, SmokeOutcome
from ncconsole.settings import Settings

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

    def problems(self) -> list[str]:
        """Why this tenant is not settled, in words."""
        if not self.exists:
            return ["no Application"]
        out = []
        if self.busy:
            out.append(self.busy)
        if not self.healthy:
            out.append(self.health or "health Unknown")
        if not self.synced:
            out.append(self.sync or "sync Unknown")
        elif not self.at_target:
            out.append(f"at revision {self.revision[:12] or '?'}, not the target")
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
    """The revision Argo CD compares the fleet with: the most common `sync.revision`."""
    counts = Counter(t.app.sync_revision for t in snapshot.tenants if t.app and t.app.sync_revision)
    return counts.most_common(1)[0][0] if counts else ""


def resolve_revision(snapshot: FleetSnapshot, given: str) -> str:
    """`given` (a full revision or the prefix of one the fleet knows), else the fleet's."""
    if not given:
        return fleet_revision(snapshot)
    known = {t.app.sync_revision for t in snapshot.tenants if t.app and t.app.sync_revision}
    matches = [r for r in known if r.startswith(given)]
    return matches[0] if len(matches) == 1 else given


def tenant_wave(
    tenant: TenantState,
    revision: str,
    smoke: SmokeOutcome | None,
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
        smoke=smoke,
        smoke_fresh=smoke is not None and smoke.fresh(revision, max_age),
        settled=app_settled(app, revision),
        step=step,
        step_status=step_status,
    )


def wave_overview(
    snapshot: FleetSnapshot,
    settings: Settings,
    strategy: AppSetStrategy | None,
    smoke: dict[str, SmokeOutcome],
    *,
    revision: str = "",
    smoke_max_age: timedelta = timedelta(minutes=30),
) -> WaveOverview:
    """Every wave of the repo's tenants with its counts and blockers (nothing is run)."""
    target = resolve_revision(snapshot, revision)
    smoke = for_cluster(smoke, snapshot.cluster)
    rolling = strategy is not None and strategy.type == "RollingSync"
    rows = [
        tenant_wave(t, target, smoke.get(t.name), smoke_max_age, strategy)
        for t in snapshot.tenants
        if t.in_repo and t.wave is not None
    ]
    by_wave: dict[int, list[TenantWave]] = {}
    for row in rows:
        by_wave.setdefault(row.wave, []).append(row)
    waves = []
    for number in sorted(by_wave):
        members = tuple(sorted(by_wave[number], key=lambda r: r.tenant))
        earlier = [r for w, rs in by_wave.items() if w < number for r in rs]
        blockers = earlier_wave_blockers(earlier)
        blockers += [Blocker(r.tenant, r.busy) for r in members if r.busy]
        blockers += [Blocker(r.tenant, "no Application") for r in members if not r.exists]
        step, max_update = None, None
        if rolling and strategy is not None:
            step, max_update, step_blockers = _rolling_blockers(strategy, members)
            blockers += step_blockers
        if not target:
            blockers.append(Blocker("", "no target revision known (no Application has one)"))
        waves.append(
            WaveStatus(
                number,
                members,
                tuple(blockers),
                step,
                max_update,
                settled=all(r.settled for r in members),
            )
        )
    unmatched = tuple(sorted(r.app for r in rows if r.step == -1))
    return WaveOverview(
        ROLLING if rolling else MANUAL,
        strategy.name if strategy else settings.applicationset,
        target,
        tuple(waves),
        unmatched,
        tuple(_describe_step(s) for s in strategy.steps) if strategy else (),
    )


def _describe_step(step: RollingStep) -> str:
    match = ", ".join(
        f"{e.get('key')} {e.get('operator', 'In')} " + ",".join(map(str, e.get("values") or []))
        for e in step.match_expressions
    )
    how = "manual" if step.max_update == 0 else f"maxUpdate {_words(step.max_update)}"
    return f"{step.index}: {match or 'everything'} ({how})"


def earlier_wave_blockers(earlier: list[TenantWave]) -> list[Blocker]:
    """Tenants of earlier waves that are not Synced and Healthy at the target, or whose
    fresh smoke checks failed (stale ones are run by the gates, not blockers here)."""
    out = []
    for row in sorted(earlier, key=lambda r: (r.wave, r.tenant)):
        problems = row.problems()
        if problems:
            out.append(Blocker(row.tenant, f"wave {row.wave}: " + ", ".join(problems)))
        elif row.smoke_fresh and row.smoke is not None and not row.smoke.passed:
            reasons = "; ".join(row.smoke.reasons) or "failed"
            out.append(Blocker(row.tenant, f"wave {row.wave}: smoke checks failed: {reasons}"))
    return out


def _rolling_blockers(
    strategy: AppSetStrategy, members: tuple[TenantWave, ...]
) -> tuple[int | None, object, list[Blocker]]:
    blockers = []
    steps = sorted({r.step for r in members if r.step is not None and r.step > 0})
    blockers += [
        Blocker(r.tenant, f"{r.app} is matched by no RollingSync step (step -1): never synced")
        for r in members
        if r.step == -1
    ]
    step = steps[0] if len(steps) == 1 else None
    max_update = None
    for number in steps:
        max_update = strategy.steps[number - 1].max_update
        if max_update != 0:
            blockers.append(
                Blocker(
                    "",
                    f"RollingSync step {number} (maxUpdate {_words(max_update)}) is synced "
                    "by the ApplicationSet controller; ncconsole promotes only maxUpdate: 0 steps",
                )
            )
    return step, max_update, blockers


def _words(max_update: object) -> str:
    return "unset: all at once" if max_update is None else str(max_update)
