"""The immutable picture of the fleet that the TUI and the CLI render.

FleetState (fleet.py) builds a new FleetSnapshot whenever observed state changes; nothing here
does I/O. kube/views.py parses raw API JSON into the *View classes; probes/ produce the
*Probe results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Health(StrEnum):
    """One word per tenant for "is it OK", ordered from worst to best for sorting."""

    DEGRADED = "degraded"
    FAILED = "failed"
    MISSING = "missing"
    PROGRESSING = "progressing"
    UNKNOWN = "unknown"
    HEALTHY = "healthy"


class KindStatus(StrEnum):
    LOADING = "loading"
    LIVE = "live"
    FORBIDDEN = "forbidden"
    # The API rejected the credentials (401): an expired or revoked token, not RBAC.
    UNAUTHORIZED = "unauthorized"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PodView:
    namespace: str
    name: str
    phase: str
    ready: bool
    restarts: int
    created: datetime | None
    node: str
    image: str
    # Why a pod is not ready, e.g. CrashLoopBackOff, from the container state.
    reason: str = ""
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    deleting: bool = False


@dataclass(frozen=True, slots=True)
class DeploymentView:
    namespace: str
    name: str
    replicas: int
    ready_replicas: int
    updated_replicas: int
    available_replicas: int
    image: str
    generation: int = 0
    observed_generation: int = 0


@dataclass(frozen=True, slots=True)
class SyncHistoryEntry:
    id: int
    revision: str
    deployed_at: datetime | None
    initiated_by: str


@dataclass(frozen=True, slots=True)
class AppView:
    """An Argo CD Application, reduced to what the console shows and gates on."""

    name: str
    namespace: str
    resource_version: str
    labels: dict[str, str] = field(compare=False, hash=False)
    sync_status: str = "Unknown"
    sync_revision: str = ""
    target_revision: str = ""
    health_status: str = "Unknown"
    health_message: str = ""
    operation_requested: bool = False
    # Who requested the pending operation (initiatedBy.username), "" when unknown or none.
    operation_initiator: str = ""
    operation_phase: str = ""
    operation_message: str = ""
    operation_started: datetime | None = None
    operation_finished: datetime | None = None
    operation_revision: str = ""
    reconciled_at: datetime | None = None
    images: tuple[str, ...] = ()
    conditions: tuple[tuple[str, str], ...] = ()
    history: tuple[SyncHistoryEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class AppSetView:
    """An Argo CD ApplicationSet: its strategy and, for RollingSync, each app's step."""

    name: str
    # AllAtOnce (also when unset) | RollingSync
    strategy: str
    # (application, step, status, message) from status.applicationStatus[].
    application_status: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EventView:
    namespace: str
    involved_kind: str
    involved_name: str
    type: str
    reason: str
    message: str
    count: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class StatusPhpProbe:
    """Result of GET https://<hostname>/status.php."""

    checked_at: datetime
    latency_ms: float
    ok: bool
    http_status: int | None = None
    installed: bool | None = None
    maintenance: bool | None = None
    needs_db_upgrade: bool | None = None
    version: str = ""
    versionstring: str = ""
    # One line saying what went wrong, e.g. "timeout after 5.0 s", "HTTP 500".
    error: str = ""


@dataclass(frozen=True, slots=True)
class BucketProbe:
    """Result of a HeadBucket on the tenant's bucket."""

    checked_at: datetime
    latency_ms: float
    # ok | missing | denied | timeout | unreachable | error | no-credentials
    state: str
    object_count: int | None = None
    bytes_used: int | None = None
    quota_max_size: int | None = None
    quota_max_objects: int | None = None
    error: str = ""


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
    appsets: tuple[AppSetView, ...] = ()
    # True once every kind has been listed (or found forbidden) at least once.
    complete: bool = False

    def waves(self) -> list[int | None]:
        """Waves in rollout order: canary (0) first, tenants without a wave last."""
        seen = {tenant.wave for tenant in self.tenants}
        return sorted(seen, key=lambda wave: (wave is None, wave if wave is not None else 0))

    def tenant(self, name: str) -> TenantState | None:
        return next((tenant for tenant in self.tenants if tenant.name == name), None)
