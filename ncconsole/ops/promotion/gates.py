"""The gates a wave passes before anything moves: earlier waves Synced and Healthy at the
target revision with recent passing smoke checks (run now when stale), nothing already
syncing in the wave, the RollingSync step manual, and (checked when acquired) the Lease."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ncconsole.ops.promotion.model import Blocker, RunSmoke, SmokeOutcome
from ncconsole.ops.promotion.waves import TenantWave, WaveOverview, WaveStatus


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
    """Blockers for promoting `status.wave`, and the smoke outcomes run to decide."""
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
                    Blocker(row.tenant, f"wave {row.wave}: smoke checks failed: {reasons}")
                )
    return blockers, ran
