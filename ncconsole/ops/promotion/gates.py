"""Every gate a wave passes before anything moves, in one place:

- the console may write: not read-only, and RBAC allows patching Applications and the Lease
  (`preflight`);
- earlier waves are Synced and Healthy at the target revision, with no failed fresh smoke
  checks (`earlier_wave_blockers`), and their stale smoke checks are run now and pass
  (`check_gates`);
- nothing in the wave is already syncing, every tenant has an Application that Argo CD can
  render (no ComparisonError), a target revision is known, and a pinned `--revision` is not
  one auto-sync (`syncPolicy.automated`) would undo (`wave_overview`);
- RollingSync: the wave's step is manual (`maxUpdate: 0`) and every Application is matched by
  a step (`rolling_blockers`);
- no other console holds the promotion Lease (`lease_blockers`; taking it is the last gate).

The rules about one tenant (settled, busy) come from fleet/health.py via waves.TenantWave.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.kube.appset_strategy import AppSetStrategy
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.lease import PromotionLease, lease_holder
from ncconsole.ops.guard import Permission, require_access, require_writable
from ncconsole.ops.promotion.model import Blocker, RunSmoke, SmokeOutcome
from ncconsole.ops.promotion.waves import (
    MANUAL,
    ROLLING,
    TenantWave,
    WaveOverview,
    WaveStatus,
    describe_step,
    max_update_words,
    resolve_revision,
    tenant_wave,
)
from ncconsole.settings import Settings


def preflight(conn: KubeConnection, settings: Settings, what: str) -> None:
    """Refuse before anything is read or run: read-only mode (ReadOnlyRefused naming `what`),
    or RBAC denying the Application patch or the Lease (AccessDenied naming the verb)."""
    require_writable(settings, what)
    namespace = settings.argocd_namespace
    require_access(
        conn,
        Permission("patch", "applications", namespace, "argoproj.io"),
        *(
            Permission(verb, "leases", namespace, "coordination.k8s.io")
            for verb in ("create", "update")
        ),
    )


def wave_overview(
    snapshot: FleetSnapshot,
    settings: Settings,
    strategy: AppSetStrategy | None,
    *,
    revision: str = "",
    smoke_max_age: timedelta = timedelta(minutes=30),
) -> WaveOverview:
    """Every wave of the repo's tenants with its counts and blockers (nothing is run); each
    tenant's last smoke outcome is the one its TenantState carries."""
    target = resolve_revision(snapshot, revision)
    rolling = strategy is not None and strategy.type == "RollingSync"
    rows = [
        tenant_wave(t, target, smoke_max_age, strategy)
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
        blockers += [
            Blocker(r.tenant, f"Argo CD cannot render it (ComparisonError: {r.comparison_error})")
            for r in members
            if r.comparison_error
        ]
        if revision:  # a pinned target: auto-sync would sync it straight back to Git's
            blockers += [Blocker(r.tenant, r.autosync) for r in members if r.autosync]
        step, max_update = None, None
        if rolling and strategy is not None:
            step, max_update, step_blockers = rolling_blockers(strategy, members)
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
        tuple(describe_step(s) for s in strategy.steps) if strategy else (),
    )


def earlier_wave_blockers(earlier: list[TenantWave]) -> list[Blocker]:
    """Tenants of earlier waves that are not Synced and Healthy at the target, or whose
    fresh smoke checks failed (stale ones are run by `check_gates`, not blockers here)."""
    out = []
    for row in sorted(earlier, key=lambda r: (r.wave, r.tenant)):
        problems = row.problems()
        if problems:
            out.append(Blocker(row.tenant, f"wave {row.wave}: " + ", ".join(problems)))
        elif row.smoke_fresh and row.smoke is not None and not row.smoke.passed:
            reasons = "; ".join(row.smoke.reasons) or "failed"
            out.append(
                Blocker(row.tenant, f"wave {row.wave}: smoke checks failed: {reasons}", True)
            )
    return out


def rolling_blockers(
    strategy: AppSetStrategy, members: tuple[TenantWave, ...]
) -> tuple[int | None, object, list[Blocker]]:
    """The wave's RollingSync step, its maxUpdate, and why the console may not promote it:
    an Application matched by no step, or a step the ApplicationSet controller syncs itself."""
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
                    f"RollingSync step {number} (maxUpdate {max_update_words(max_update)}) is "
                    "synced by the ApplicationSet controller; ncconsole promotes only "
                    "maxUpdate: 0 steps",
                )
            )
    return step, max_update, blockers


def lease_blockers(lease: PromotionLease) -> list[Blocker]:
    """Another console holding the promotion Lease (read, not taken)."""
    try:
        current = lease.read()
    except ApiStatusError as err:
        if err.status != 403:
            raise
        # The built-in `view` role has no Leases: a dry run can say so instead of failing.
        return [Blocker("", f"may not read the promotion Lease in {lease.namespace} (RBAC)")]
    holder = lease_holder(current)
    return [Blocker("", f"promotion Lease held by {holder}")] if holder else []


def stale_smoke(overview: WaveOverview, wave: int) -> list[TenantWave]:
    """Settled tenants of earlier waves without a fresh smoke outcome."""
    return [
        row
        for status in overview.waves
        if status.wave < wave
        for row in status.tenants
        if row.settled and not row.smoke_fresh
    ]


def check_gates(
    overview: WaveOverview,
    status: WaveStatus,
    run_smoke: RunSmoke,
    *,
    concurrency: int = 4,
) -> tuple[list[Blocker], dict[str, SmokeOutcome]]:
    """Blockers for promoting `status.wave`, after running the stale smoke checks of earlier
    waves; and the smoke outcomes run to decide."""
    blockers = list(status.blockers)
    stale = stale_smoke(overview, status.wave)
    ran: dict[str, SmokeOutcome] = {}
    if stale and not any(b.tenant in {r.tenant for r in stale} for b in blockers):
        with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="gate-smoke") as pool:
            outcomes = list(pool.map(lambda row: run_smoke(row.tenant), stale))
        for row, outcome in zip(stale, outcomes, strict=True):
            ran[row.tenant] = outcome
            if not outcome.passed:
                reasons = "; ".join(outcome.reasons) or "failed"
                blockers.append(
                    Blocker(row.tenant, f"wave {row.wave}: smoke checks failed: {reasons}", True)
                )
    return blockers, ran
