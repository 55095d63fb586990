"""Raw API JSON (dicts) -> slim, immutable views of what the console shows and gates on:
each view type is defined here, beside its parser. The fleet model (fleet/model.py) is built
from them.

Every parser tolerates missing fields: a half-written status (Argo CD has no status
subresource, controllers write it piecemeal) gives defaults, never a KeyError.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ncconsole.kube import revisions


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
    revision: str  # the revision key (kube/revisions.py): one per source, joined
    deployed_at: datetime | None
    initiated_by: str


@dataclass(frozen=True, slots=True)
class AppView:
    """An Argo CD Application, reduced to what the console shows and gates on.

    Every `*_revision` is a revision key (kube/revisions.py): for a multi-source Application
    the per-source `revisions[]` joined ("6.6.9,<sha>"), for a single-source one its
    `revision`. Argo CD fills only the fields of the Application's own shape."""

    name: str
    namespace: str
    resource_version: str
    labels: dict[str, str] = field(compare=False, hash=False)
    sync_status: str = "Unknown"
    # What Argo CD compares the Application with (status.sync.revision[s]).
    sync_revision: str = ""
    # What the spec asks for (each source's targetRevision, e.g. "6.6.9,HEAD").
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
    # What the last sync operation synced to (operationState.syncResult.revision[s]).
    operation_revision: str = ""
    reconciled_at: datetime | None = None
    images: tuple[str, ...] = ()
    conditions: tuple[tuple[str, str], ...] = ()
    history: tuple[SyncHistoryEntry, ...] = ()
    # The last operation's resource results: (kind/name, status, message), e.g.
    # ("Deployment/nextcloud", "SyncFailed", "admission webhook ... denied the request").
    operation_resources: tuple[tuple[str, str, str], ...] = ()
    # spec.sources is set (HasMultipleSources); then spec.source is ignored.
    multi_source: bool = False
    # spec.syncPolicy.automated is on: Argo CD syncs OutOfSync by itself (undoes a rollback).
    automated: bool = False

    @property
    def comparison_error(self) -> str:
        """The message of a ComparisonError condition ("" when there is none): Argo CD
        cannot render the manifests, sync is Unknown and health may still say Healthy."""
        return next((m or t for t, m in self.conditions if t == "ComparisonError"), "")


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


APP_HEALTH = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}
APP_SYNC = {"Synced", "OutOfSync", "Unknown"}


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _shared(value: Any) -> str:
    """A string many objects repeat (namespace, image, phase, revision, label): one copy for
    all of them instead of one per object the JSON decoder made (RSS per tenant)."""
    return sys.intern(value) if isinstance(value, str) else ""


def _labels(meta: dict[str, Any]) -> dict[str, str]:
    return {_shared(str(k)): _shared(str(v)) for k, v in _dict(meta.get("labels")).items()}


def container_image(spec: dict[str, Any], container: str) -> str:
    """Image of the named container, else of the first container."""
    containers = [c for c in _list(spec.get("containers")) if isinstance(c, dict)]
    for item in containers:
        if item.get("name") == container:
            return _str(item.get("image"))
    return _str(containers[0].get("image")) if containers else ""


def parse_pod(obj: dict[str, Any], container: str = "nextcloud") -> PodView:
    meta = _dict(obj.get("metadata"))
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    statuses = [s for s in _list(status.get("containerStatuses")) if isinstance(s, dict)]
    ready = any(
        _dict(c).get("type") == "Ready" and _dict(c).get("status") == "True"
        for c in _list(status.get("conditions"))
    )
    return PodView(
        namespace=_shared(meta.get("namespace")),
        name=_str(meta.get("name")),
        phase=_shared(status.get("phase")) or "Unknown",
        ready=ready,
        restarts=sum(_int(s.get("restartCount")) for s in statuses),
        created=parse_time(meta.get("creationTimestamp")),
        node=_shared(spec.get("nodeName")),
        image=_shared(container_image(spec, container)),
        reason=_shared(_pod_reason(status, statuses)),
        deleting=bool(meta.get("deletionTimestamp")),
    )


def _pod_reason(status: dict[str, Any], statuses: list[dict[str, Any]]) -> str:
    """Why a pod is unwell, as kubectl's STATUS column would say it."""
    for item in statuses:
        state = _dict(item.get("state"))
        waiting = _dict(state.get("waiting"))
        if waiting.get("reason") and waiting.get("reason") != "ContainerCreating":
            return _str(waiting.get("reason"))
        terminated = _dict(state.get("terminated"))
        if terminated.get("reason") and terminated.get("reason") != "Completed":
            return _str(terminated.get("reason"))
    return _str(status.get("reason"))


def parse_deployment(obj: dict[str, Any], container: str = "nextcloud") -> DeploymentView:
    meta = _dict(obj.get("metadata"))
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    replicas = spec.get("replicas")
    return DeploymentView(
        namespace=_shared(meta.get("namespace")),
        name=_str(meta.get("name")),
        replicas=1 if replicas is None else _int(replicas),
        ready_replicas=_int(status.get("readyReplicas")),
        updated_replicas=_int(status.get("updatedReplicas")),
        available_replicas=_int(status.get("availableReplicas")),
        image=_shared(container_image(_dict(_dict(spec.get("template")).get("spec")), container)),
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
    )


def parse_app(obj: dict[str, Any]) -> AppView:
    """An Argo CD Application; unknown health/sync words are kept as "Unknown"."""
    meta = _dict(obj.get("metadata"))
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    sync = _dict(status.get("sync"))
    health = _dict(status.get("health"))
    op_state = _dict(status.get("operationState"))
    multi = bool(_list(spec.get("sources")))
    sources = _list(spec.get("sources")) if multi else [_dict(spec.get("source"))]
    health_status = _str(health.get("status"))
    sync_status = _str(sync.get("status"))
    return AppView(
        name=_str(meta.get("name")),
        namespace=_shared(meta.get("namespace")),
        resource_version=_str(meta.get("resourceVersion")),
        labels=_labels(meta),
        sync_status=_shared(sync_status) if sync_status in APP_SYNC else "Unknown",
        sync_revision=_shared(revision_key(sync, multi)),
        target_revision=_shared(
            revisions.join(_str(_dict(s).get("targetRevision")) or "HEAD" for s in sources)
        ),
        health_status=_shared(health_status) if health_status in APP_HEALTH else "Unknown",
        health_message=_str(health.get("message")),
        operation_requested=bool(obj.get("operation")),
        operation_initiator=_str(
            _dict(_dict(obj.get("operation")).get("initiatedBy")).get("username")
        ),
        operation_phase=_shared(op_state.get("phase")),
        operation_message=_str(op_state.get("message")),
        operation_started=parse_time(op_state.get("startedAt")),
        operation_finished=parse_time(op_state.get("finishedAt")),
        operation_resources=tuple(
            (
                f"{_str(r.get('kind'))}/{_str(r.get('name'))}",
                _str(r.get("status")),
                _str(r.get("message")),
            )
            for r in _list(_dict(op_state.get("syncResult")).get("resources"))
            if isinstance(r, dict)
        ),
        operation_revision=_shared(revision_key(_dict(op_state.get("syncResult")), multi)),
        reconciled_at=parse_time(status.get("reconciledAt")),
        images=tuple(_shared(i) for i in _list(_dict(status.get("summary")).get("images"))),
        conditions=tuple(
            (_str(c.get("type")), _str(c.get("message")))
            for c in _list(status.get("conditions"))
            if isinstance(c, dict)
        ),
        history=tuple(
            SyncHistoryEntry(
                id=_int(h.get("id")),
                revision=_shared(revision_key(h, multi)),
                deployed_at=parse_time(h.get("deployedAt")),
                initiated_by=_initiator(h.get("initiatedBy")),
            )
            for h in _list(status.get("history"))
            if isinstance(h, dict)
        ),
        multi_source=multi,
        automated=automated_sync(spec),
    )


def revision_key(block: dict[str, Any], multi: bool) -> str:
    """The revision key of a status block (sync, syncResult, a history entry): its
    `revisions` for a multi-source Application, its `revision` otherwise. An entry of the
    other shape (history from before the Application changed shape) is read as it is."""
    plural = [_str(r) for r in _list(block.get("revisions"))]
    singular = _str(block.get("revision"))
    if multi:
        return revisions.join(plural) or singular
    return singular or revisions.join(plural)


def automated_sync(spec: dict[str, Any]) -> bool:
    """Whether auto-sync is on: `syncPolicy.automated` present and not `enabled: false`."""
    automated = _dict(spec.get("syncPolicy")).get("automated")
    return isinstance(automated, dict) and automated.get("enabled") is not False


def _initiator(value: Any) -> str:
    item = _dict(value)
    if item.get("automated"):
        return "automated"
    return _shared(item.get("username"))


def parse_appset(obj: dict[str, Any]) -> AppSetView:
    meta = _dict(obj.get("metadata"))
    strategy = _dict(_dict(obj.get("spec")).get("strategy"))
    return AppSetView(
        name=_str(meta.get("name")),
        strategy=_str(strategy.get("type")) or "AllAtOnce",
        application_status=tuple(
            (
                _str(s.get("application")),
                _str(s.get("step")),
                _str(s.get("status")),
                _str(s.get("message")),
            )
            for s in _list(_dict(obj.get("status")).get("applicationStatus"))
            if isinstance(s, dict)
        ),
    )


def parse_event(obj: dict[str, Any]) -> EventView:
    meta = _dict(obj.get("metadata"))
    involved = _dict(obj.get("involvedObject")) or _dict(obj.get("regarding"))
    series = _dict(obj.get("series"))
    last_seen = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("eventTime"))
        or parse_time(meta.get("creationTimestamp"))
    )
    return EventView(
        namespace=_str(meta.get("namespace")),
        involved_kind=_str(involved.get("kind")),
        involved_name=_str(involved.get("name")),
        type=_str(obj.get("type")) or "Normal",
        reason=_str(obj.get("reason")),
        message=_str(obj.get("message") or obj.get("note")),
        count=_int(obj.get("count")) or _int(series.get("count")) or 1,
        last_seen=last_seen,
    )


def ready_condition(obj: dict[str, Any]) -> tuple[bool | None, str]:
    """status.conditions[type=Ready] as (True/False, message); (None, "") when absent."""
    for cond in _list(_dict(obj.get("status")).get("conditions")):
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            message = _str(cond.get("message")) or _str(cond.get("reason"))
            return cond.get("status") == "True", message
    return None, ""
