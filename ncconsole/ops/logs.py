"""A tenant's Nextcloud logs: every pod of its Deployment, interleaved by time and prefixed
with the pod like `kubectl logs -l ... --prefix`, read once or followed.

`read_tenant_logs` reads each pod's container log (current or previous run) and merges the
lines by their kubelet timestamps. `TenantLogFollower` follows them: one stream per pod, new
pods picked up as they appear (a restart's replacements), a container that restarts followed
into its next run, a broken stream reopened from its last line's time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ncconsole.fleet.watches import NEXTCLOUD_SELECTOR
from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.logs import LogQuery, StampedLine, follow_pod_log, read_pod_log
from ncconsole.ops.errors import AccessDenied, OpsError
from ncconsole.ops.guard import forbidden_message
from ncconsole.settings import Settings

READ_CONCURRENCY = 4  # pods read at once
POD_POLL = 2.0  # seconds between looks for new pods while following
_EPOCH = datetime.min.replace(tzinfo=None)


@dataclass(frozen=True)
class LogOptions:
    """What to read: like `kubectl logs` flags (None = not given)."""

    container: str = "nextcloud"
    previous: bool = False
    tail_lines: int | None = 200  # per pod; None = everything
    since: timedelta | None = None
    pods: tuple[str, ...] = ()  # only these pods (default: every Nextcloud pod)

    def query(self) -> LogQuery:
        since = None if self.since is None else max(1, int(self.since.total_seconds()))
        return LogQuery(self.container, self.previous, self.tail_lines, since)


@dataclass(frozen=True)
class LogLine:
    pod: str
    container: str
    at: datetime | None
    text: str

    @property
    def prefix(self) -> str:
        return f"[pod/{self.pod}/{self.container}]"

    def render(self, *, prefix: bool = True, timestamps: bool = False) -> str:
        parts = []
        if prefix:
            parts.append(self.prefix)
        if timestamps and self.at is not None:
            parts.append(self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        parts.append(self.text)
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "container": self.container,
            "time": self.at.isoformat() if self.at else None,
            "line": self.text,
        }


@dataclass(frozen=True)
class PodInfo:
    name: str
    containers: tuple[str, ...]
    created: str
    restarts: dict[str, int]  # container -> restartCount
    running: dict[str, str]  # container -> id of the running run ("" when not running)


@dataclass
class TenantLogs:
    lines: list[LogLine]
    pods: list[str]
    # Pod -> why it gave no lines (e.g. no previous run), in the API's words.
    problems: dict[str, str] = field(default_factory=dict)


def _pod_info(obj: dict[str, Any]) -> PodInfo:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return PodInfo(
        name=str(meta.get("name", "")),
        containers=tuple(str(c.get("name", "")) for c in spec.get("containers") or []),
        created=str(meta.get("creationTimestamp", "")),
        restarts={str(s.get("name")): int(s.get("restartCount") or 0) for s in statuses},
        running={
            str(s.get("name")): str(s.get("containerID") or "")
            if "running" in (s.get("state") or {})
            else ""
            for s in statuses
        },
    )


def tenant_pods(conn: KubeConnection, settings: Settings, tenant: str) -> list[PodInfo]:
    """The tenant's Nextcloud pods, oldest first (AccessDenied naming the right on 403)."""
    namespace = settings.namespace_for(tenant)
    try:
        answer = conn.get_json(
            f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": NEXTCLOUD_SELECTOR}
        )
    except ApiStatusError as err:
        if err.status == 403:
            raise AccessDenied(forbidden_message("list", "pods", namespace)) from None
        raise
    pods = [_pod_info(item) for item in answer.get("items") or [] if isinstance(item, dict)]
    return sorted(pods, key=lambda p: (p.created, p.name))


def no_pods(conn: KubeConnection, settings: Settings, tenant: str) -> OpsError:
    """Why a tenant has no Nextcloud pod to read: no namespace at all, or none there."""
    namespace = settings.namespace_for(tenant)
    try:
        conn.get_json(f"/api/v1/namespaces/{namespace}")
    except ApiStatusError as err:
        if err.status == 404:
            return OpsError(
                f"tenant {tenant}: no namespace {namespace} (`ncconsole tenants` lists the "
                "tenants; a new one is deployed by its first sync)"
            )
    return OpsError(
        f"tenant {tenant}: no Nextcloud pods in {namespace} ({NEXTCLOUD_SELECTOR})", exit_code=1
    )


def _chosen(pods: list[PodInfo], options: LogOptions, tenant: str) -> list[PodInfo]:
    if not options.pods:
        return pods
    known = {p.name: p for p in pods}
    unknown = [name for name in options.pods if name not in known]
    if unknown:
        raise OpsError(
            f"tenant {tenant}: no Nextcloud pod {', '.join(unknown)}"
            f" (pods: {', '.join(known) or 'none'})"
        )
    return [known[name] for name in options.pods]


def _api_problem(err: ApiStatusError, namespace: str) -> str:
    if err.status == 403:
        return forbidden_message("get", "pods/log", namespace)
    return err.message or f"HTTP {err.status} {err.reason}"


def read_tenant_logs(
    conn: KubeConnection, settings: Settings, tenant: str, options: LogOptions
) -> TenantLogs:
    """Every chosen pod's log, merged by time (lines without a time keep their pod's order)."""
    namespace = settings.namespace_for(tenant)
    pods = _chosen(tenant_pods(conn, settings, tenant), options, tenant)
    if not pods:
        raise no_pods(conn, settings, tenant)
    query = options.query()

    def read(pod: PodInfo) -> tuple[str, list[StampedLine] | str]:
        if options.container not in pod.containers:
            return pod.name, f"no container {options.container} (has {', '.join(pod.containers)})"
        try:
            return pod.name, read_pod_log(conn, namespace, pod.name, query)
        except ApiStatusError as err:
            return pod.name, _api_problem(err, namespace)

    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
        results = list(pool.map(read, pods))
    logs = TenantLogs([], [p.name for p in pods])
    for pod_name, got in results:
        if isinstance(got, str):
            logs.problems[pod_name] = got
            continue
        logs.lines.extend(LogLine(pod_name, options.container, s.at, s.text) for s in got)
    if len(logs.problems) == len(pods):
        detail = "; ".join(f"{pod}: {why}" for pod, why in logs.problems.items())
        if any("forbidden" in why for why in logs.problems.values()):
            raise AccessDenied(detail)
        raise OpsError(f"tenant {tenant}: no logs - {detail}", exit_code=1)
    logs.lines.sort(key=lambda line: line.at.replace(tzinfo=None) if line.at else _EPOCH)
    return logs


class TenantLogFollower:
    """Follows a tenant's pod logs on background threads until `stop()`.

    `on_line(LogLine)` gets every line, `on_status(text)` what happened to the streams (a pod
    appeared, its container restarted, a pod went away, a refusal); both on those threads."""

    def __init__(
        self,
        conn: KubeConnection,
        settings: Settings,
        tenant: str,
        options: LogOptions,
        on_line: Callable[[LogLine], None],
        on_status: Callable[[str], None] = lambda text: None,
        poll: float = POD_POLL,
    ) -> None:
        self.conn, self.settings, self.tenant, self.options = conn, settings, tenant, options
        self.namespace = settings.namespace_for(tenant)
        self.on_line, self.on_status, self.poll = on_line, on_status, poll
        self._cancel = Cancel()
        self._lock = threading.Lock()
        self._streams: dict[str, threading.Thread] = {}
        self._last: dict[str, datetime] = {}  # pod -> time of its newest line seen
        self._followed_run: dict[str, str] = {}  # pod -> container id last followed
        self._supervisor: threading.Thread | None = None

    def start(self) -> None:
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="logs")
        self._supervisor.start()

    def stop(self) -> None:
        self._cancel.set()

    @property
    def stopped(self) -> bool:
        return self._cancel.is_set()

    def _supervise(self) -> None:
        first = True
        known: set[str] = set()
        while not self._cancel.is_set():
            try:
                pods = _chosen(tenant_pods(self.conn, self.settings, self.tenant), self.options,
                               self.tenant)  # fmt: skip
            except (ApiStatusError, ApiUnreachable, OpsError) as err:
                self.on_status(str(err))
                pods = None
            if pods is not None:
                names = {p.name for p in pods}
                for gone in sorted(known - names):
                    self.on_status(f"pod {gone} is gone")
                known = names
                for pod in pods:
                    self._maybe_follow(pod, first)
                first = False
            self._cancel._event.wait(self.poll)

    def _maybe_follow(self, pod: PodInfo, first: bool) -> None:
        container = self.options.container
        if container not in pod.containers:
            return
        with self._lock:
            thread = self._streams.get(pod.name)
            if thread is not None and thread.is_alive():
                return
            run = pod.running.get(container, "")
            if not run and not pod.restarts.get(container, 0):
                return  # not started yet: nothing to read (the API would say "waiting")
            followed = self._followed_run.get(pod.name)
            if followed is not None and (self.options.previous or not run or run == followed):
                return  # that run was followed to its end; wait for the next one
            query = self.options.query()
            if followed is not None or not first:
                # A new pod or a new run: from its start, not only the newest N lines.
                query = LogQuery(container, self.options.previous)
                if followed is not None:
                    self.on_status(f"pod {pod.name}: container {container} restarted")
                else:
                    self.on_status(f"pod {pod.name} appeared")
            self._followed_run[pod.name] = run
            thread = threading.Thread(
                target=self._follow, args=(pod.name, query), daemon=True, name=f"log-{pod.name}"
            )
            self._streams[pod.name] = thread
        thread.start()

    def _follow(self, pod: str, query: LogQuery) -> None:
        container = query.container

        def see(line: StampedLine) -> None:
            last = self._last.get(pod)
            if line.at is not None:
                if last is not None and line.at <= last:
                    return  # already seen before a reconnect
                self._last[pod] = line.at
            self.on_line(LogLine(pod, container, line.at, line.text))

        while not self._cancel.is_set():
            try:
                how = follow_pod_log(self.conn, self.namespace, pod, query, see, self._cancel)
            except ApiStatusError as err:
                if err.status != 404:
                    self.on_status(f"pod {pod}: {_api_problem(err, self.namespace)}")
                return
            except ApiUnreachable as err:
                how = "broken"
                self.on_status(f"pod {pod}: {err}; retrying")
                self._cancel._event.wait(self.poll)
            if how != "broken":
                return
            last = self._last.get(pod)
            query = LogQuery(container, query.previous, since_time=last) if last else query
