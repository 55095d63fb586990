"""What a wave promotion talks about: per-tenant progress, gate blockers, smoke outcomes and
the final report. Plain data; no I/O."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.ops.errors import Refused


class Phase(StrEnum):
    QUEUED = "queued"
    SYNCING = "syncing"
    WAITING = "waiting for health"
    SMOKE = "smoke"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # never started: the promotion stopped first
    INTERRUPTED = "interrupted"  # followed no further (the sync itself goes on in Argo CD)


FINISHED = (Phase.DONE, Phase.FAILED, Phase.SKIPPED, Phase.INTERRUPTED)


@dataclass
class TenantProgress:
    """One tenant's place in a promotion; the engine updates it and reports a copy."""

    tenant: str
    app: str
    phase: Phase = Phase.QUEUED
    message: str = ""
    started: float | None = None  # time.monotonic()
    finished: float | None = None
    synced: bool = False  # a sync was requested for it (False: already at the target)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def copy(self) -> TenantProgress:
        return TenantProgress(**self.__dict__)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "application": self.app,
            "phase": str(self.phase),
            "message": self.message,
            "elapsed": round(self.elapsed, 1),
            "synced": self.synced,
        }


ProgressCallback = Callable[[TenantProgress], None]


@dataclass(frozen=True)
class Blocker:
    """Why a wave may not be promoted; `tenant` is "" for wave-wide reasons (the Lease)."""

    tenant: str
    reason: str
    # A failed smoke result blocks: running the tenant's smoke checks again may clear it.
    smoke: bool = False

    def __str__(self) -> str:
        return f"{self.tenant}: {self.reason}" if self.tenant else self.reason


class GateRefused(Refused):
    """A promotion gate refused; nothing was changed. Exit code 3."""

    exit_code = 3

    def __init__(self, wave: int, blockers: list[Blocker]) -> None:
        listed = "; ".join(str(b) for b in blockers)
        super().__init__(f"wave {wave} may not be promoted: {listed}")
        self.wave = wave
        self.blockers = blockers


# run_smoke(tenant) -> SmokeOutcome (kept in ops/smoke_record.py, shared with `ncconsole smoke`
# and the console); the default runs ops/smoke.py on the live fleet.
RunSmoke = Callable[[str], SmokeOutcome]


@dataclass(frozen=True)
class PromotionOptions:
    wave: int
    revision: str = ""  # "" = the revision Argo CD compares the fleet with
    concurrency: int = 4
    timeout: float = 600.0  # seconds per tenant, sync to healthy
    continue_on_error: bool = False
    dry_run: bool = False
    force: bool = False  # skip the gates (the caller has had it confirmed)
    retry_limit: int = 2
    smoke_max_age: timedelta = timedelta(minutes=30)

    def audit_args(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "revision": self.revision or None,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "continue_on_error": self.continue_on_error,
            "forced": self.force,
        }


@dataclass
class PromotionReport:
    """What happened. `outcome`: promoted | failed | halted | interrupted | dry-run (the gates
    pass) | dry-run-refused (a real run would be refused: exit 3)."""

    wave: int
    revision: str
    mode: str
    tenants: list[TenantProgress]
    outcome: str = "promoted"
    message: str = ""
    forced_past: list[Blocker] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"promoted": 0, "dry-run": 0, "dry-run-refused": 3, "interrupted": 130}.get(
            self.outcome, 1
        )

    def count(self, phase: Phase) -> int:
        return sum(1 for t in self.tenants if t.phase == phase)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "revision": self.revision,
            "mode": self.mode,
            "outcome": self.outcome,
            "message": self.message,
            "exit_code": self.exit_code,
            "forced_past": [str(b) for b in self.forced_past],
            "tenants": [t.as_dict() for t in self.tenants],
        }
