"""Argo CD Applications through the Kubernetes API: request a sync, the "done" rules, and
refresh (DOMAIN.md §2). Following a sync by watch: argocd_follow.py; ApplicationSet
strategies: appset_strategy.py.

A sync is a merge patch of the Application's top-level `operation`. That skips Argo CD's own
"operation already in progress" check, so `request_sync` reads first, refuses when the
caller's rule (fleet/health.sync_busy: an operation set or running) says a sync is busy, and
patches with the resourceVersion it read. Argo CD's controller rewrites the Application's
status all the time, so a 409 on that patch is normal: the Application is read again and the
patch retried a few times before giving up.

A revision is a revision key (kube/revisions.py). For a multi-source Application it goes out
as `operation.sync.revisions`, one per source in order - the resolved form argocd-server
writes for a request with `sourcePositions`, since the CRD's SyncOperation has no
`sourcePositions` and Argo CD ignores `sync.revision` for such an Application (argo-cd
controller/sync.go SyncAppState). A single-source one gets `operation.sync.revision`.
`sync_state` says where a requested sync stands by the "done" rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.kube import revisions
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.views import AppView, parse_app, parse_time, revision_key

ARGO = "/apis/argoproj.io/v1alpha1"
MERGE_PATCH = "application/merge-patch+json"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
# Patch attempts when the Application keeps changing under us (409 Conflict).
CONFLICT_ATTEMPTS = 4
Obj = dict[str, Any]


class SyncRefused(NcConsoleError):
    """The sync was not requested: an operation is running, or the Application changed."""


def app_path(namespace: str, name: str = "") -> str:
    base = f"{ARGO}/namespaces/{namespace}/applications"
    return f"{base}/{name}" if name else base


def get_app(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(app_path(namespace, name))


@dataclass(frozen=True)
class SyncRequest:
    """A requested sync: what to follow."""

    namespace: str
    name: str
    request_id: str
    revision: str  # "" = the Application's own target
    resource_version: str  # of the patched Application


def request_sync(
    conn: KubeConnection,
    namespace: str,
    name: str,
    *,
    user: str,
    reason: str,
    busy: Callable[[AppView], str],
    revision: str = "",
    retry_limit: int = 2,
    sources: list[Obj] | None = None,
    refuse: Callable[[AppView], str] | None = None,
    prune: bool = False,
) -> SyncRequest:
    """Patch `operation` onto the Application; SyncRefused when `busy` (the caller's rule for
    why a sync may not be requested now) gives a reason on the Application as read, when
    `revision` does not fit its sources, or when it changed between read and patch (409)
    `CONFLICT_ATTEMPTS` times in a row. `refuse` is the caller's other rule (e.g. auto-sync
    would undo this sync), its reason said as it is. `sources` (a rollback, as
    argocd-server's Rollback writes it) replace the spec's sources for this sync."""
    request_id = str(uuid.uuid4())
    for _attempt in range(CONFLICT_ATTEMPTS):
        app = get_app(conn, namespace, name)
        view = parse_app(app)
        why = busy(view)
        if why:
            raise SyncRefused(f"Application {name}: {why}; wait for it to finish")
        why = refuse(view) if refuse is not None else ""
        if why:
            raise SyncRefused(why)
        patch = {
            "metadata": {"resourceVersion": app["metadata"]["resourceVersion"]},
            "operation": {
                "initiatedBy": {"username": f"ncconsole:{user}"},
                "info": [
                    {"name": "Reason", "value": reason},
                    {"name": "RequestID", "value": request_id},
                ],
                "sync": _sync_block(app, name, revision, sources, prune),
                "retry": {"limit": retry_limit},
            },
        }
        try:
            patched = conn.request_json(
                "PATCH", app_path(namespace, name), None, patch, content_type=MERGE_PATCH
            )
        except ApiStatusError as err:
            if err.status == 409:
                continue  # Argo CD wrote the Application meanwhile: read it again
            raise
        return SyncRequest(
            namespace, name, request_id, revision, patched["metadata"]["resourceVersion"]
        )
    raise SyncRefused(
        f"Application {name} kept changing while the sync was being requested "
        f"({CONFLICT_ATTEMPTS} attempts); try again"
    )


def _sync_block(
    app: Obj, name: str, revision: str, sources: list[Obj] | None, prune: bool = False
) -> Obj:
    sync: Obj = {"prune": prune, "syncStrategy": {"hook": {}}, "syncOptions": []}
    spec = app.get("spec") or {}
    multi = bool(sources) if sources is not None else bool(spec.get("sources"))
    if sources:
        sync["sources"] = sources
    if not revision:
        return sync
    if multi:
        count = len(sources or spec.get("sources") or [])
        try:
            sync["revisions"] = revisions.for_sources(revision, count)
        except ValueError as err:
            raise SyncRefused(f"Application {name}: {err}") from None
    elif revisions.SEP in revision:
        raise SyncRefused(
            f"Application {name} has one source; revision {revisions.short(revision)} names "
            f"{len(revisions.split(revision))}"
        )
    else:
        sync["revision"] = revision
    return sync


class NothingToTerminate(NcConsoleError):
    """No operation is in progress on the Application."""


def terminate_operation(conn: KubeConnection, namespace: str, name: str) -> Obj:
    """What `argocd app terminate-op` does (server/application TerminateOperation): with an
    operation in progress, set status.operationState.phase to Terminating and update the
    Application, retrying a conflicting update up to 10 times; the controller then stops the
    sync and ends it Failed ("Operation terminated"). NothingToTerminate otherwise."""
    for _ in range(10):
        app = get_app(conn, namespace, name)
        op_state = (app.get("status") or {}).get("operationState")
        if not app.get("operation") or not op_state:
            raise NothingToTerminate(
                f"Application {name}: no operation is in progress (Argo CD: Unable to "
                "terminate operation. No operation is in progress)"
            )
        op_state["phase"] = "Terminating"
        try:
            return conn.request_json("PUT", app_path(namespace, name), None, app)
        except ApiStatusError as err:
            if err.status != 409:
                raise
    raise SyncRefused(f"Application {name} kept changing; terminate not recorded, try again")


def request_refresh(conn: KubeConnection, namespace: str, name: str, hard: bool = False) -> None:
    """Ask Argo CD to compare the Application with Git now (the controller removes the mark)."""
    patch = {"metadata": {"annotations": {REFRESH_ANNOTATION: "hard" if hard else "normal"}}}
    conn.request_json("PATCH", app_path(namespace, name), None, patch, content_type=MERGE_PATCH)


# -- the "done" rules -------------------------------------------------------------------------

PENDING, SYNCING, WAITING, DONE, DEGRADED, FAILED = (
    "pending",  # requested, the controller has not picked it up yet
    "syncing",  # operation Running (or retrying)
    "waiting",  # operation Succeeded; waiting for reconcile, Synced and Healthy
    "done",
    "degraded",
    "failed",  # operation Failed or Error
)
FINAL = (DONE, DEGRADED, FAILED)


@dataclass(frozen=True)
class SyncState:
    state: str  # one of the words above
    message: str
    health: str = ""
    sync: str = ""
    revision: str = ""


def _info_value(operation: Obj, key: str) -> str:
    for item in operation.get("info") or []:
        if isinstance(item, dict) and item.get("name") == key:
            return str(item.get("value") or "")
    return ""


def sync_state(app: Obj, request: SyncRequest, *, require_synced: bool = True) -> SyncState:
    """Where the requested sync stands, by DOMAIN.md §2: done = `.operation` gone, our
    operation Succeeded with finishedAt at the requested revision(s), reconciledAt >=
    finishedAt, Synced at the target and Healthy. Synced is not asked for when
    `require_synced` is off (a rollback) or when the requested revision is not what Argo CD
    compares with (a pinned older commit: the Application then stays OutOfSync).
    Failed/Error of our operation, or Degraded once it has succeeded, end the wait."""
    st = app.get("status") or {}
    multi = bool((app.get("spec") or {}).get("sources"))
    op_state = st.get("operationState") or {}
    health = (st.get("health") or {}).get("status", "")
    health_msg = (st.get("health") or {}).get("message", "")
    sync = (st.get("sync") or {}).get("status", "")
    revision = revision_key(st.get("sync") or {}, multi)
    ours = _info_value(op_state.get("operation") or {}, "RequestID") == request.request_id
    phase = op_state.get("phase", "")
    common = {"health": health, "sync": sync, "revision": revision}
    if not ours:
        return SyncState(PENDING, "waiting for Argo CD to start the sync", **common)
    message = op_state.get("message", "")
    if phase in ("Failed", "Error"):
        return SyncState(FAILED, f"sync {phase}: {message}".rstrip(": "), **common)
    finished = op_state.get("finishedAt")
    if phase in ("Running", "Terminating") or app.get("operation") or not finished:
        retry = f" (retry {op_state['retryCount']})" if op_state.get("retryCount") else ""
        return SyncState(SYNCING, f"sync {phase or 'requested'}{retry}: {message}", **common)
    if phase != "Succeeded":
        return SyncState(FAILED, f"sync ended {phase}: {message}", **common)
    result = revision_key(op_state.get("syncResult") or {}, multi)
    if request.revision and result and not revisions.matches(request.revision, result):
        return SyncState(
            FAILED,
            f"Argo CD synced {revisions.short(result)}, not the requested "
            f"{revisions.short(request.revision)}",
            **common,
        )
    target = result or request.revision
    pinned = bool(request.revision) and not revisions.matches(request.revision, revision)
    if health == "Degraded":
        return SyncState(DEGRADED, f"Degraded: {health_msg or 'see the Application'}", **common)
    waiting = []
    reconciled, done_at = parse_time(st.get("reconciledAt")), parse_time(finished)
    if reconciled is None or (done_at is not None and reconciled < done_at):
        waiting.append("Argo CD to reconcile")
    if require_synced and not pinned and sync != "Synced":
        waiting.append(f"Synced (is {sync or 'Unknown'})")
    if require_synced and not pinned and target and not revisions.matches(target, revision):
        waiting.append(f"revision {revisions.short(target)} (is {revisions.short(revision)})")
    if health != "Healthy":
        waiting.append(
            f"Healthy (is {health or 'Unknown'}{': ' + health_msg if health_msg else ''})"
        )
    if waiting:
        return SyncState(WAITING, "waiting for " + ", ".join(waiting), **common)
    state = "Synced and Healthy" if require_synced and not pinned else "Healthy"
    return SyncState(DONE, f"{state} at {revisions.short(target or revision)}", **common)
