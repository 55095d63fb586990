"""Argo CD through the Kubernetes API: request a sync, follow it to "done", refresh, and read
an ApplicationSet's strategy (DOMAIN.md §2).

A sync is a merge patch of the Application's top-level `operation`. That skips Argo CD's own
"operation already in progress" check, so `request_sync` reads first, refuses when an
operation is set or running, and patches with the resourceVersion it read (409 otherwise).
`follow_sync` watches the one Application until the "done" rules hold or it fails.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes.watch.watch import iter_resp_lines

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection, abort_stream
from ncconsole.kube.views import parse_time

ARGO = "/apis/argoproj.io/v1alpha1"
MERGE_PATCH = "application/merge-patch+json"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
Obj = dict[str, Any]


class SyncRefused(NcConsoleError):
    """The sync was not requested: an operation is running, or the Application changed."""


def app_path(namespace: str, name: str = "") -> str:
    base = f"{ARGO}/namespaces/{namespace}/applications"
    return f"{base}/{name}" if name else base


def appset_path(namespace: str, name: str) -> str:
    return f"{ARGO}/namespaces/{namespace}/applicationsets/{name}"


def get_app(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(app_path(namespace, name))


def operation_in_progress(app: Obj) -> str:
    """Why a sync must not be requested now ("" when it may)."""
    name = (app.get("metadata") or {}).get("name", "?")
    if app.get("operation"):
        who = ((app["operation"].get("initiatedBy") or {}).get("username")) or "someone"
        return f"Application {name} already has an operation requested (by {who})"
    phase = ((app.get("status") or {}).get("operationState") or {}).get("phase")
    if phase in ("Running", "Terminating"):
        return f"Application {name} has a sync operation {phase}"
    return ""


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
    revision: str = "",
    retry_limit: int = 2,
) -> SyncRequest:
    """Patch `operation` onto the Application; SyncRefused when one is in progress or the
    Application changed between the read and the patch (409)."""
    app = get_app(conn, namespace, name)
    busy = operation_in_progress(app)
    if busy:
        raise SyncRefused(f"{busy}; wait for it to finish")
    request_id = str(uuid.uuid4())
    sync: Obj = {"prune": False, "syncStrategy": {"hook": {}}, "syncOptions": []}
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


# -- following by watch -----------------------------------------------------------------------


class Cancel:
    """Stops `follow_sync` from another thread, unblocking its open watch at once."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._streams: set[Any] = set()

    def set(self) -> None:
        self._event.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            abort_stream(stream)

    def is_set(self) -> bool:
        return self._event.is_set()

    def _register(self, stream: Any) -> None:
        with self._lock:
            self._streams.add(stream)
        if self._event.is_set():
            abort_stream(stream)

    def _unregister(self, stream: Any) -> None:
        with self._lock:
            self._streams.discard(stream)


@dataclass
class FollowResult:
    state: SyncState
    timed_out: bool = False
    cancelled: bool = False
    app: Obj = field(default_factory=dict)


def follow_sync(
    conn: KubeConnection,
    request: SyncRequest,
    *,
    timeout: float,
    on_state: Callable[[SyncState], None] | None = None,
    cancel: Cancel | None = None,
    require_synced: bool = True,
) -> FollowResult:
    """Watch the Application until `sync_state` is final, the timeout passes or `cancel`."""
    deadline = time.monotonic() + timeout
    last: SyncState | None = None
    app: Obj = {}

    def see(obj: Obj) -> SyncState:
        nonlocal last, app
        app = obj
        state = sync_state(obj, request, require_synced=require_synced)
        if state != last and on_state is not None:
            on_state(state)
        last = state
        return state

    while True:
        if cancel is not None and cancel.is_set():
            return FollowResult(last or see(app), cancelled=True, app=app)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return FollowResult(last or see(app), timed_out=True, app=app)
        try:
            state = see(get_app(conn, request.namespace, request.name))
            if state.state in FINAL:
                return FollowResult(state, app=app)
            final = _watch_until_final(conn, request, app, remaining, see, cancel)
        except ApiUnreachable:
            # The API may come back within the timeout: retry after a short pause.
            if cancel is not None:
                cancel._event.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            else:
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            continue
        if final is not None:
            return FollowResult(final, app=app)


def _watch_until_final(
    conn: KubeConnection,
    request: SyncRequest,
    app: Obj,
    remaining: float,
    see: Callable[[Obj], SyncState],
    cancel: Cancel | None,
) -> SyncState | None:
    """One watch from the Application's resourceVersion; the final state, or None when the
    watch ended first (the caller reads again and re-watches)."""
    query = {
        "watch": "true",
        "fieldSelector": f"metadata.name={request.name}",
        "resourceVersion": app["metadata"]["resourceVersion"],
        "timeoutSeconds": max(1, min(int(remaining) + 1, 300)),
        "allowWatchBookmarks": "false",
    }
    try:
        stream = conn.open_stream(app_path(request.namespace), query, remaining + 5)
    except ApiStatusError as err:
        if err.status == 410:
            return None
        raise
    if cancel is not None:
        cancel._register(stream)
    try:
        for line in iter_resp_lines(stream):
            event = json.loads(line)
            if event.get("type") in ("ADDED", "MODIFIED"):
                state = see(event["object"])
                if state.state in FINAL:
                    return state
            elif event.get("type") == "ERROR":
                return None
            if cancel is not None and cancel.is_set():
                return None
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        return None  # ended, timed out or aborted: the caller decides
    finally:
        if cancel is not None:
            cancel._unregister(stream)
        stream.release_conn()
    return None


# -- ApplicationSet strategy ------------------------------------------------------------------


@dataclass(frozen=True)
class RollingStep:
    index: int  # 1-based, as status.applicationStatus[].step says
    match_expressions: tuple[Obj, ...]
    max_update: Any  # None = all at once, 0 = manual, n or "25%"

    def matches(self, labels: dict[str, str]) -> bool:
        for expr in self.match_expressions:
            value = labels.get(str(expr.get("key", "")))
            values = [str(v) for v in expr.get("values") or []]
            op = expr.get("operator", "In")
            if (op == "In" and value not in values) or (op == "NotIn" and value in values):
                return False
        return True


@dataclass(frozen=True)
class AppSetStrategy:
    name: str
    type: str  # "AllAtOnce" (also when unset) | "RollingSync"
    steps: tuple[RollingStep, ...] = ()
    # application -> (step, status, message, targetRevisions)
    application_status: dict[str, tuple[str, str, str, tuple[str, ...]]] = field(
        default_factory=dict
    )

    def step_of(self, labels: dict[str, str]) -> int:
        """The 1-based step matching `labels`, or -1 (never synced by the controller)."""
        return next((s.index for s in self.steps if s.matches(labels)), -1)


def read_appset_strategy(conn: KubeConnection, namespace: str, name: str) -> AppSetStrategy | None:
    """The ApplicationSet's strategy; None when it does not exist."""
    try:
        appset = conn.get_json(appset_path(namespace, name))
    except ApiStatusError as err:
        if err.status == 404:
            return None
        raise
    return parse_appset_strategy(appset)


def parse_appset_strategy(appset: Obj) -> AppSetStrategy:
    strategy = (appset.get("spec") or {}).get("strategy") or {}
    kind = strategy.get("type") or "AllAtOnce"
    steps = tuple(
        RollingStep(i, tuple(step.get("matchExpressions") or ()), step.get("maxUpdate"))
        for i, step in enumerate((strategy.get("rollingSync") or {}).get("steps") or [], start=1)
    )
    statuses = {
        str(s.get("application")): (
            str(s.get("step", "")),
            str(s.get("status", "")),
            str(s.get("message", "")),
            tuple(s.get("targetRevisions") or ()),
        )
        for s in (appset.get("status") or {}).get("applicationStatus") or []
        if isinstance(s, dict)
    }
    name = (appset.get("metadata") or {}).get("name", "")
    return AppSetStrategy(name, kind, steps if kind == "RollingSync" else (), statuses)
