"""Argo CD Applications through the Kubernetes API: request a sync, the "done" rules, and
refresh (DOMAIN.md §2). Following a sync by watch: argocd_follow.py; ApplicationSet
strategies: appset_strategy.py.

A sync is a merge patch of the Application's top-level `operation`. That skips Argo CD's own
"operation already in progress" check, so `request_sync` reads first, refuses when the
caller's rule (fleet/health.sync_busy: an operation set or running) says a sync is busy, and
patches with the resourceVersion it read (409 otherwise).
`sync_state` says where a requested sync stands by the "done" rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.views import AppView, parse_app, parse_time

ARGO = "/apis/argoproj.io/v1alpha1"
MERGE_PATCH = "application/merge-patch+json"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
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
    prune: bool = False,
) -> SyncRequest:
    """Patch `operation` onto the Application; SyncRefused when `busy` (the fleet's rule for
    "a sync is in progress") gives a reason on the Application as read, or when it changed
    between the read and the patch (409)."""
    app = get_app(conn, namespace, name)
    why = busy(parse_app(app))
    if why:
        raise SyncRefused(f"Application {name}: {why}; wait for it to finish")
    request_id = str(uuid.uuid4())
    sync: Obj = {"prune": prune, "syncStrategy": {"hook": {}}, "syncOptions": []}
    if revision:
        sync["revision"] = revision
    patch = {
        "metadata": {"resourceVersion": app["metadata"]["resourceVersion"]},
        "operation": {
            "initiatedBy": {"username": f"ncconsole:{user}"},
            "info": [
                {"name": "Reason", "value": reason},
                {"name": "RequestID", "value": request_id},
            ],
            "sync": sync,
            "retry": {"limit": retry_limit},
        },
    }
    try:
        patched = conn.request_json(
            "PATCH", app_path(namespace, name), None, patch, content_type=MERGE_PATCH
        )
    except ApiStatusError as err:
        if err.status == 409:
            raise SyncRefused(
                f"Application {name} changed while the sync was being requested; try again"
            ) from None
        raise
    return SyncRequest(
        namespace, name, request_id, revision, patched["metadata"]["resourceVersion"]
    )


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
    operation Succeeded with finishedAt, reconciledAt >= finishedAt, Synced at the target
    revision (unless `require_synced` is off, e.g. a rollback to an older commit) and Healthy.
    Failed/Error of our operation, or Degraded once it has succeeded, end the wait."""
    st = app.get("status") or {}
    op_state = st.get("operationState") or {}
    health = (st.get("health") or {}).get("status", "")
    health_msg = (st.get("health") or {}).get("message", "")
    sync = (st.get("sync") or {}).get("status", "")
    revision = (st.get("sync") or {}).get("revision", "")
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
    target = request.revision or (op_state.get("syncResult") or {}).get("revision", "")
    if health == "Degraded":
        return SyncState(DEGRADED, f"Degraded: {health_msg or 'see the Application'}", **common)
    waiting = []
    reconciled, done_at = parse_time(st.get("reconciledAt")), parse_time(finished)
    if reconciled is None or (done_at is not None and reconciled < done_at):
        waiting.append("Argo CD to reconcile")
    if require_synced and sync != "Synced":
        waiting.append(f"Synced (is {sync or 'Unknown'})")
    if require_synced and target and revision != target:
        waiting.append(f"revision {target[:12]} (is {revision[:12] or '?'})")
    if health != "Healthy":
        waiting.append(
            f"Healthy (is {health or 'Unknown'}{': ' + health_msg if health_msg else ''})"
        )
    if waiting:
        return SyncState(WAITING, "waiting for " + ", ".join(waiting), **common)
    return SyncState(DONE, f"Synced and Healthy at {(target or revision)[:12]}", **common)
