"""Following one requested Argo CD sync by watch until the "done" rules say it is over.

`follow_sync` reads the Application, then watches it (field-selected by name) from that
resourceVersion; a watch that ends is reopened, the API going away is retried until the
timeout. `Cancel` stops it from another thread at once by aborting the open stream.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes.watch.watch import iter_resp_lines

from ncconsole.kube.argocd import FINAL, Obj, SyncRequest, SyncState, app_path, get_app, sync_state
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection, abort_stream


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
