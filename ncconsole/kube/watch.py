"""One list+watch loop per resource kind, on its own thread, over raw JSON.

The loop lists once, then watches from the list's resourceVersion; a watch that ends resumes
from the last resourceVersion it saw (bookmarks included), 410 Gone relists, errors back off
with jitter, 403 marks the kind forbidden and retries slowly, and a dead connection reports
"API unreachable" until the server answers again. Results go to a `WatchSink` as parsed
views keyed by (namespace, name).

RBAC grants a list across all namespaces only through a ClusterRoleBinding (kubernetes
pkg/registry/rbac/validation/rule.go VisitRulesFor), so an engineer bound by RoleBindings in
the tenant namespaces gets 403 on /api/v1/pods. A kind whose spec names a per-namespace path
then falls back to one list+watch per namespace (as Argo CD's own cluster cache does for a
namespace-scoped install, gitops-engine pkg/cache/cluster.go): the kind reports
PER_NAMESPACE, each namespace its own LIVE or FORBIDDEN (`WatchSink.namespace_status`), and
at most `WatchTiming.namespace_lists` lists run at a time.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import urllib3
from kubernetes.watch.watch import iter_resp_lines

from ncconsole.kube.connection import (
    ApiStatusError,
    ApiUnreachable,
    KubeConnection,
    abort_stream,
    not_kubernetes,
)

Key = tuple[str, str]


class KindStatus(StrEnum):
    LOADING = "loading"
    LIVE = "live"
    # Live, but read namespace by namespace: the list across all namespaces is forbidden.
    PER_NAMESPACE = "per-namespace"
    FORBIDDEN = "forbidden"
    # The API rejected the credentials (401): an expired or revoked token, not RBAC.
    UNAUTHORIZED = "unauthorized"
    ERROR = "error"


class WatchSink(Protocol):
    """Where a watcher delivers what it sees; called from the watcher's thread."""

    # `namespace`: replace only that namespace's objects (a per-namespace watch's list).
    def replace(self, kind: str, items: dict[Key, Any], namespace: str | None = None) -> None: ...
    def upsert(self, kind: str, key: Key, view: Any) -> None: ...
    def delete(self, kind: str, key: Key) -> None: ...
    def kind_status(self, kind: str, status: KindStatus, message: str = "") -> None: ...
    # A per-namespace watch's own state: LIVE, FORBIDDEN (no RoleBinding there) or ERROR.
    def namespace_status(
        self, kind: str, namespace: str, status: KindStatus, message: str = ""
    ) -> None: ...
    def contact(self, ok: bool, error: str = "") -> None: ...


@dataclass(frozen=True)
class WatchSpec:
    """What to watch: `path` is the list URL, e.g. /api/v1/pods."""

    kind: str
    path: str
    parse: Callable[[dict[str, Any]], Any]
    label_selector: str | None = None
    field_selector: str | None = None
    # Views for which this returns False are dropped (e.g. pods outside tenant namespaces).
    accept: Callable[[Any], bool] | None = None
    # The list URL within one namespace: enables the per-namespace fallback on a 403.
    namespaced_path: Callable[[str], str] | None = None


@dataclass(frozen=True)
class WatchTiming:
    watch_seconds: int = 300  # server-side timeoutSeconds, jittered down by up to 20 %
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    forbidden_retry: float = 30.0
    # One small GET this often: a constant idle cost, whatever the fleet size.
    heartbeat_seconds: float = 5.0
    heartbeat_timeout: float = 5.0
    # Per-namespace fallback: lists running at once, and how often the namespace set is read.
    namespace_lists: int = 8
    namespace_refresh: float = 2.0
    # Objects per list request (kubectl's default chunk size).
    list_page: int = 500


class _Relist(Exception):
    pass


def _key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


# The namespaces to read a kind in when its cluster-wide list is forbidden; None while they
# are not known yet (the repo is still being read).
NamespaceSource = Callable[[], Iterable[str] | None]


class KindWatcher:
    """Runs the list+watch loop for one WatchSpec until `stop()`: across all namespaces, or
    within `namespace`. With `namespaces` it falls back to one child loop per namespace when
    the cluster-wide list is forbidden (see the module docstring)."""

    def __init__(
        self,
        conn: KubeConnection,
        spec: WatchSpec,
        sink: WatchSink,
        timing: WatchTiming | None = None,
        *,
        namespaces: NamespaceSource | None = None,
        namespace: str | None = None,
        list_slots: threading.Semaphore | None = None,
    ) -> None:
        self.conn = conn
        self.spec = spec
        self.sink = sink
        self.timing = timing or WatchTiming()
        self.namespaces = namespaces
        self.namespace = namespace
        self.resource_version: str | None = None
        # Requests made so far, for diagnostics and the request-count budget.
        self.lists = 0
        self.list_requests = 0  # a list in pages makes several
        self.streams_opened = 0
        # Per namespace: the first list (or refusal) is in, and the state it last reported.
        self.answered = threading.Event()
        self.last_status = KindStatus.LOADING
        self._list_slots = list_slots
        self._children: dict[str, KindWatcher] = {}
        self._stopping = threading.Event()
        self._stream: Any = None
        where = f"-{namespace}" if namespace else ""
        self._thread = threading.Thread(
            target=self._run, name=f"watch-{spec.kind}{where}", daemon=True
        )

    @property
    def path(self) -> str:
        if self.namespace is not None and self.spec.namespaced_path is not None:
            return self.spec.namespaced_path(self.namespace)
        return self.spec.path

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self.reconnect()
        self._thread.join(timeout)

    def reconnect(self) -> None:
        """Drop the current watch stream(s); the loop resumes from its resourceVersion."""
        stream = self._stream
        if stream is not None:
            abort_stream(stream)
        for child in list(self._children.values()):
            child.reconnect()

    def request_counts(self) -> tuple[int, int]:
        """(lists, watch streams opened) so far, per-namespace children included."""
        children = list(self._children.values())
        return (
            self.lists + sum(c.lists for c in children),
            self.streams_opened + sum(c.streams_opened for c in children),
        )

    def _status(self, status: KindStatus, message: str = "") -> None:
        self.last_status = status
        if self.namespace is None:
            self.sink.kind_status(self.spec.kind, status, message)
        else:
            self.sink.namespace_status(self.spec.kind, self.namespace, status, message)

    def _query(self) -> dict[str, Any]:
        return {
            "labelSelector": self.spec.label_selector,
            "fieldSelector": self.spec.field_selector,
        }

    def _accepts(self, view: Any) -> bool:
        return self.spec.accept is None or self.spec.accept(view)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            delay = 0.0
            try:
                if self.resource_version is None:
                    self._list()
                if self._watch():
                    failures = 0
                else:  # ended at once with nothing: do not hammer the server
                    failures += 1
                    delay = self._backoff(failures)
            except _Relist:
                self.resource_version = None
            except ApiStatusError as err:
                self.sink.contact(True)
                if err.status == 410:
                    self.resource_version = None
                    continue
                if err.status == 403 and self._can_fan_out():
                    self._fan_out(str(err))
                    return
                if err.status in (401, 403):
                    status = KindStatus.UNAUTHORIZED if err.status == 401 else KindStatus.FORBIDDEN
                    self._status(status, str(err))
                    delay = self.timing.forbidden_retry
                elif err.status == 404:  # the resource type is not served (CRD missing)
                    self._status(KindStatus.ERROR, "not installed")
                    delay = self.timing.forbidden_retry
                else:
                    self._status(KindStatus.ERROR, str(err))
                    failures += 1
                    delay = self._backoff(failures)
                self.answered.set()
            except ApiUnreachable as err:
                failures += 1
                self.sink.contact(False, str(err))
                delay = self._backoff(failures)
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as err:
                # The stream broke mid-way (reset, read timeout, truncated JSON): resume.
                failures += 1
                delay = self._backoff(failures) if failures > 1 else 0.0
                if failures > 2:
                    self.sink.contact(False, f"watch {self.spec.kind} failing: {err}")
            if delay:
                self._stopping.wait(delay)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.timing.backoff_max, self.timing.backoff_base * 2 ** (failures - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _list(self) -> None:
        """List the kind in pages of `timing.list_page` objects, as kubectl does: each page is
        parsed into views and dropped before the next comes, so the process never holds the
        whole list's JSON (tens of MB at thousands of tenants) as objects at once; the heap
        that held it stayed allocated for the life of the console."""
        self.lists += 1
        if self._list_slots is None:
            items, meta = self._read_pages()
        else:
            with self._list_slots:  # the per-namespace fallback's bound on concurrent lists
                items, meta = self._read_pages()
        self.resource_version = meta.get("resourceVersion") or ""
        self.sink.contact(True)
        self.sink.replace(self.spec.kind, items, self.namespace)
        self._status(KindStatus.LIVE)
        self.answered.set()

    def _read_pages(self) -> tuple[dict[Key, Any], dict[str, Any]]:
        """Every page of the list as views, and the last page's list metadata."""
        items: dict[Key, Any] = {}
        token: str | None = None
        whole = False
        while True:
            query = self._query()
            if not whole:
                query |= {"limit": self.timing.list_page, "continue": token}
            self.list_requests += 1
            try:
                data = self.conn.get_list(self.path, query)
            except ApiStatusError as err:
                if err.status != 410 or not token:
                    raise
                # The continue token expired (a slow read of a busy kind): read it whole.
                items.clear()
                token, whole = None, True
                continue
            for obj in data.get("items") or ():
                view = self.spec.parse(obj)
                if self._accepts(view):
                    items[_key(obj)] = view
            meta = data.get("metadata") or {}
            token = meta.get("continue") or None
            if not token:
                return items, meta

    # -- the per-namespace fallback ------------------------------------------------------------

    def _can_fan_out(self) -> bool:
        return (
            self.namespace is None
            and self.namespaces is not None
            and self.spec.namespaced_path is not None
        )

    def _fan_out(self, refusal: str) -> None:
        """Read the kind with one child loop per namespace until `stop()`, or until the
        cluster-wide list is allowed again (RBAC changed; tried every `forbidden_retry`).
        The kind reports LOADING until every namespace has answered once, then
        PER_NAMESPACE - or FORBIDDEN when every namespace refuses too."""
        assert self.namespaces is not None
        slots = threading.BoundedSemaphore(max(1, self.timing.namespace_lists))
        why = f"cluster-wide list forbidden ({refusal}); read per namespace"
        self._status(KindStatus.LOADING, why)
        retry_at = time.monotonic() + self.timing.forbidden_retry
        while not self._stopping.is_set():
            wanted = self.namespaces()
            if wanted is not None:
                self._sync_children(set(wanted), slots)
                children = list(self._children.values())
                if all(c.answered.is_set() for c in children):
                    refused = all(c.last_status is KindStatus.FORBIDDEN for c in children)
                    if refused and children:
                        self._status(KindStatus.FORBIDDEN, f"{refusal}, and in every namespace")
                    else:
                        self._status(KindStatus.PER_NAMESPACE, why)
            if time.monotonic() >= retry_at:
                retry_at = time.monotonic() + self.timing.forbidden_retry
                if self._cluster_wide_allowed():
                    break
            self._stopping.wait(self.timing.namespace_refresh)
        for child in list(self._children.values()):
            child.stop(timeout=0.5)
        self._children.clear()
        if not self._stopping.is_set():
            self._run()  # back to one list+watch across all namespaces

    def _sync_children(self, wanted: set[str], slots: threading.Semaphore) -> None:
        for namespace in sorted(wanted - set(self._children)):
            child = KindWatcher(
                self.conn, self.spec, self.sink, self.timing,
                namespace=namespace, list_slots=slots,
            )  # fmt: skip
            self._children[namespace] = child
            child.start()
        for namespace in sorted(set(self._children) - wanted):
            self._children.pop(namespace).stop(timeout=0)
            self.sink.replace(self.spec.kind, {}, namespace)
            self.sink.namespace_status(self.spec.kind, namespace, KindStatus.LIVE)

    def _cluster_wide_allowed(self) -> bool:
        """Try the cluster-wide list again: on success its items replace the per-namespace
        ones and every namespace's refusal is cleared."""
        try:
            self._list()
        except (ApiStatusError, ApiUnreachable):
            return False
        for namespace in list(self._children):
            self.sink.namespace_status(self.spec.kind, namespace, KindStatus.LIVE)
        return True

    def _watch(self) -> bool:
        """Follow one watch stream to its end; False if it ended at once and empty."""
        seconds = self.timing.watch_seconds
        seconds = max(1, int(seconds * random.uniform(0.8, 1.0)))
        query = self._query() | {
            "watch": "true",
            "resourceVersion": self.resource_version or None,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": seconds,
        }
        self.streams_opened += 1
        stream = self.conn.open_stream(self.path, query, read_timeout=seconds + 15)
        self._stream = stream
        self.sink.contact(True)
        self._status(KindStatus.LIVE)
        opened, lines = time.monotonic(), 0
        try:
            if self._stopping.is_set():
                return True
            for line in iter_resp_lines(stream):
                lines += 1
                if line:
                    self._handle(json.loads(line))
                if self._stopping.is_set():
                    return True
            return lines > 0 or time.monotonic() - opened > 1.0
        finally:
            self._stream = None
            stream.release_conn()

    def _handle(self, event: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise not_kubernetes(
                self.conn.cluster, self.spec.path, "a watch event without an object"
            )
        kind = event.get("type")
        obj = event["object"]
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Relist
            raise ApiStatusError(
                int(obj.get("code") or 500), str(obj.get("reason") or ""), obj.get("message", "")
            )
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = version
        if kind == "BOOKMARK":
            return
        key = _key(obj)
        if kind == "DELETED":
            self.sink.delete(self.spec.kind, key)
            return
        view = self.spec.parse(obj)
        if self._accepts(view):
            self.sink.upsert(self.spec.kind, key, view)
        else:
            self.sink.delete(self.spec.kind, key)


# A real resource read, not /version: discovery stays fast when the storage behind the API is
# slow, and a slow API is what the user needs to see. 403/404 still prove the API answers.
HEARTBEAT_PATH = "/api/v1/namespaces/default"


class Heartbeat:
    """Notices an API server that went away even while watch streams hang silently.

    A half-dead connection (server gone without closing it, network cut) would otherwise
    only show at the watch's read timeout, minutes later. On a failed check every watcher
    drops its stream, so they reconnect (and back off) instead of waiting on a dead socket.
    """

    # A slow API is not a dead one: only after this many timeouts in a row are the watch
    # streams dropped (a refused or reset connection drops them at once).
    TIMEOUTS_BEFORE_RECONNECT = 3

    def __init__(
        self,
        conn: KubeConnection,
        sink: WatchSink,
        watchers: list[KindWatcher],
        timing: WatchTiming,
    ) -> None:
        self.conn = conn
        self.sink = sink
        self.watchers = watchers
        self.timing = timing
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        timeouts = 0
        timeout = (min(5.0, self.timing.heartbeat_timeout), self.timing.heartbeat_timeout)
        while not self._stopping.wait(self.timing.heartbeat_seconds):
            try:
                answer = self.conn.request_json("GET", HEARTBEAT_PATH, timeout=timeout)
                if answer.get("kind") != "Namespace":
                    raise not_kubernetes(self.conn.cluster, HEARTBEAT_PATH, "no Namespace")
            except ApiStatusError as err:
                timeouts = 0
                self.sink.contact(True)
                if err.status == 401:
                    # Open watches outlive an expired token for minutes: make them ask again,
                    # so every kind reports the rejected credentials now.
                    for watcher in self.watchers:
                        watcher.reconnect()
            except ApiUnreachable as err:
                slow = "timeout" in str(err)
                timeouts = timeouts + 1 if slow else 0
                self.sink.contact(False, str(err))
                if not slow or timeouts >= self.TIMEOUTS_BEFORE_RECONNECT:
                    timeouts = 0
                    for watcher in self.watchers:
                        watcher.reconnect()
            else:
                timeouts = 0
                self.sink.contact(True)
