"""The immutable picture of the fleet that the TUI and the CLI render.

FleetState (fleet/state.py) builds a new FleetSnapshot whenever observed state changes;
nothing here does I/O. A TenantState is made of the views kube/views.py parses from the API
(PodView, AppView, ...) and the results probes/results.py defines (StatusPhpProbe,
BucketProbe), each defined beside what produces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.kube.views import (
    AppSetView,
    AppView,
    DeploymentView,
    EventView,
    PodView,
    SyncHistoryEntry,
)
from ncconsole.kube.watch import KindStatus
from ncconsole.platform.reading import NOT_READ, PlatformReading, TenantPlatform
from ncconsole.probes.results import BucketProbe, StatusPhpProbe

# The views and probe results are re-exported: the layers above the fleet (ops, render, cli,
# tui) speak the fleet's vocabulary and never import kube/ or probes/ for it.
__all__ = [
    "AppSetView",
    "AppView",
    "BucketProbe",
    "DeploymentView",
    "EventView",
    "FleetSnapshot",
    "Health",
    "KindState",
    "KindStatus",
    "PlatformReading",
    "PlatformState",
    "PodView",
    "SmokeOutcome",
    "StatusPhpProbe",
    "SyncHistoryEntry",
    "TenantPlatform",
    "TenantState",
]


class Health(StrEnum):
    """One word per tenant for "is it OK", ordered from worst to best for sorting."""

    DEGRADED = "degraded"
    FAILED = "failed"
    MISSING = "missing"
    # Nextcloud's maintenance mode is on: planned work, not a failure (warning, not error).
    MAINTENANCE = "maintenance"
    PROGRESSING = "progressing"
    UNKNOWN = "unknown"
    # Nothing wrong seen, but the first status.php or S3 probe has not answered yet.
    PENDING = "pending"
    HEALTHY = "healthy"


@dataclass(frozen=True, slots=True)
class KindState:
    status: KindStatus
    message: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TenantState:
    name: str
    wave: int | None
    environment: str
    hostname: str
    bucket: str
    namespace: str
    app_name: str
    in_repo: bool
    app: AppView | None = None
    deployment: DeploymentView | None = None
    pods: tuple[PodView, ...] = ()
    events: tuple[EventView, ...] = ()
    web: StatusPhpProbe | None = None
    s3: BucketProbe | None = None
    # Differences between the repo and the cluster, e.g. "not deployed", "orphan",
    # "wave label 2 differs from file wave 1".
    drift: tuple[str, ...] = ()
    health: Health = Health.UNKNOWN
    # Short reason for the health word, e.g. "2 pods CrashLoopBackOff".
    reason: str = ""
    # The last smoke checks recorded for this tenant on this cluster (fleet/smoke_record.py).
    smoke: SmokeOutcome | None = None
    # What the shared platform's last reading says about it: alerts, silences, certificates,
    # PgBouncer pools (platform/reading.py).
    platform: TenantPlatform = NOT_READ


@dataclass(frozen=True, slots=True)
class PlatformState:
    redis: DeploymentView | None = None
    pgbouncer: DeploymentView | None = None
    # None = unknown (not readable), True/False = the store's Ready condition.
    secret_store_ready: bool | None = None
    secret_store_message: str = ""


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    version: int
    taken_at: datetime
    context: str
    cluster: str
    repo: str
    tenants: tuple[TenantState, ...]
    kinds: dict[str, KindState] = field(default_factory=dict, compare=False, hash=False)
    platform: PlatformState = field(default_factory=PlatformState)
    api_reachable: bool = True
    api_error: str = ""
    # When the API last answered; the UI shows the age of the data from it.
    last_contact: datetime | None = None
    repo_problems: tuple[str, ...] = ()
    # Why the smoke record could not be read ("" when it could): smoke results are unknown.
    smoke_problem: str = ""
    appsets: tuple[AppSetView, ...] = ()
    # True once every kind has been listed (or found forbidden) at least once.
    complete: bool = False
    # The last reading of the shared platform's components (PgBouncer, Redis, Alertmanager,
    # certificates); None while none was taken (not read by this fleet, or not yet).
    platform_reading: PlatformReading | None = None

    def waves(self) -> list[int | None]:
        """Waves in rollout order: canary (0) first, tenants without a wave last."""
        seen = {tenant.wave for tenant in self.tenants}
        return sorted(seen, key=lambda wave: (wave is None, wave if wave is not None else 0))

    def tenant(self, name: str) -> TenantState | None:
        return next((tenant for tenant in self.tenants if tenant.name == name), None)
