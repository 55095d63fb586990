"""`GET .../pods/NAME/log`: which run of a container the kubelet reads, and how the answer is
cut and streamed, following the real components:

- the apiserver validates the options first (`pkg/apis/core/validation`
  ValidatePodLogOptions: tailLines >= 0, sinceSeconds >= 1, limitBytes >= 1, at most one of
  sinceSeconds/sinceTime) and answers 422 Invalid, then resolves the container (400 when it is
  missing or ambiguous, or when the pod has no node yet);
- the kubelet picks the run (`pkg/kubelet/kubelet_pods.go` validateContainerLogStatus):
  `previous` = the last terminated run (400 "previous terminated container ... not found"
  without one); otherwise the running one, else the last terminated one (a CrashLoopBackOff
  container shows the run that crashed), else 400 "... is waiting to start: REASON";
- lines carry the time they were written; `timestamps=true` prefixes each with it in the
  kubelet's fixed RFC 3339 nano format (`kuberuntime/logs`: 2006-01-02T15:04:05.000000000Z);
- `follow=true` streams new lines as they are written until the run ends (a crash, the pod
  going away) or the client leaves.

What a container writes comes from a `LogSource`: (namespace, pod, run, until) -> lines.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.exec_ws import resolve_container
from ncconsole.sim.apiserver.resources import PODS
from ncconsole.sim.apiserver.store import Store

Obj = dict[str, Any]
LogLine = tuple[datetime, str]
FOLLOW_POLL = 0.2  # seconds between looks for new lines while following


@dataclass(frozen=True)
class ContainerRun:
    """One run of a container, as the kubelet's container status describes it."""

    container: str
    container_id: str
    started_at: datetime
    finished_at: datetime | None = None  # None while it runs
    exit_code: int | None = None
    reason: str = ""


# (namespace, pod, run, until) -> the lines the run wrote up to `until`, oldest first; a plain
# string is taken as lines all written when the run started.
LogSource = Callable[
    [str, Obj, ContainerRun, datetime], "list[LogLine] | str | Awaitable[list[LogLine] | str]"
]


def default_log_source(namespace: str, pod: Obj, run: ContainerRun, until: datetime) -> str:
    return f"container {run.container} of pod {namespace}/{pod['metadata']['name']} started\n"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def kubelet_timestamp(at: datetime) -> str:
    """The kubelet's fixed-width RFC 3339 nano timestamp (always 9 fraction digits, UTC Z)."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond * 1000:09d}Z"


@dataclass(frozen=True)
class LogOptions:
    container: str | None
    previous: bool
    follow: bool
    timestamps: bool
    tail_lines: int | None
    since: datetime | None
    limit_bytes: int | None


def parse_options(query: Any, pod_name: str, now: datetime) -> LogOptions:
    """The query's PodLogOptions; 422 Invalid like ValidatePodLogOptions for bad values."""
    causes: list[tuple[str, str, str]] = []

    def integer(key: str, minimum: int, why: str) -> int | None:
        raw = query.get(key)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ApiError.bad_request(f"{key}: invalid value {raw!r}") from None
        if value < minimum:
            causes.append((key, raw, why))
        return value

    tail = integer("tailLines", 0, "must be greater than or equal to 0")
    since_seconds = integer("sinceSeconds", 1, "must be greater than 0")
    limit = integer("limitBytes", 1, "must be greater than 0")
    since_time = query.get("sinceTime")
    if since_time and since_seconds is not None:
        causes.append(("sinceTime", since_time, "at most one of `sinceTime` or `sinceSeconds`"))
    if causes:
        raise ApiError.invalid("PodLogOptions", "", pod_name, causes)
    since = None
    if since_seconds is not None:
        since = now - timedelta(seconds=since_seconds)
    elif since_time:
        since = parse_time(since_time)
        if since is None:
            raise ApiError.bad_request(f"sinceTime: invalid value {since_time!r}")

    def flag(key: str) -> bool:
        return (query.get(key) or "").lower() in ("1", "true")

    return LogOptions(
        container=query.get("container") or None,
        previous=flag("previous"),
        follow=flag("follow"),
        timestamps=flag("timestamps"),
        tail_lines=tail,
        since=since,
        limit_bytes=limit,
    )


def _status(pod: Obj, container: str) -> Obj:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            if item.get("name") == container:
                return item
    raise ApiError.bad_request(
        f'container "{container}" in pod "{pod["metadata"]["name"]}" is not available'
    )


def _terminated_run(container: str, term: Obj) -> ContainerRun | None:
    if not term or not term.get("containerID"):
        return None
    finished = parse_time(term.get("finishedAt")) or datetime.now(UTC)
    return ContainerRun(
        container,
        str(term["containerID"]),
        parse_time(term.get("startedAt")) or finished,
        finished,
        int(term.get("exitCode") or 0),
        str(term.get("reason") or ""),
    )


def choose_run(pod: Obj, container: str, previous: bool) -> ContainerRun:
    """The run the kubelet would read, or its 400 (validateContainerLogStatus)."""
    name = pod["metadata"]["name"]
    cs = _status(pod, container)
    state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated") or {}
    if previous:
        run = _terminated_run(container, last)
        if run is None:
            raise ApiError.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return run
    if "running" in state:
        started = parse_time((state["running"] or {}).get("startedAt")) or datetime.now(UTC)
        return ContainerRun(container, str(cs.get("containerID") or ""), started)
    if "terminated" in state:
        run = _terminated_run(container, state["terminated"] or {}) or _terminated_run(
            container, last
        )
        if run is None:
            raise ApiError.bad_request(f'container "{container}" in pod "{name}" is terminated')
        return run
    run = _terminated_run(container, last)
    if run is not None:
        return run
    reason = ((state.get("waiting") or {}).get("reason")) or "ContainerCreating"
    if reason == "ErrImagePull":
        reason = "image can't be pulled"
    elif reason == "ImagePullBackOff":
        reason = "trying and failing to pull image"
    raise ApiError.bad_request(
        f'container "{container}" in pod "{name}" is waiting to start: {reason}'
    )


def _same_run(pod: Obj | None, uid: str, run: ContainerRun) -> bool:
    """Whether `run` is still the running run of its container in the pod `uid`."""
    if pod is None or pod["metadata"].get("uid") != uid:
        return False
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == run.container:
            return (
                "running" in (cs.get("state") or {}) and cs.get("containerID") == run.container_id
            )
    return False


class PodLogs:
    """Serves pods/log from the store and a LogSource (settable while running)."""

    def __init__(self, store: Store, source: LogSource | None = None) -> None:
        self.store = store
        self.source: LogSource = source or default_log_source

    async def _lines(self, namespace: str, pod: Obj, run: ContainerRun) -> list[LogLine]:
        until = run.finished_at or datetime.now(UTC)
        got = self.source(namespace, pod, run, until)
        if inspect.isawaitable(got):
            got = await got
        if isinstance(got, str):
            return [(run.started_at, line) for line in got.splitlines()]
        if run.finished_at is not None:
            return list(got)  # a run that ended wrote every line it ever will
        return [(at, text) for at, text in got if at <= until]

    async def serve(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        pod = self.store.get(PODS, namespace, name)
        opts = parse_options(request.query, name, datetime.now(UTC))
        container = resolve_container(pod, opts.container)
        if not (pod.get("spec") or {}).get("nodeName"):
            raise ApiError.bad_request(f"pod {name} does not have a host assigned")
        run = choose_run(pod, container, opts.previous)
        lines = await self._lines(namespace, pod, run)
        # Following goes on after the newest line written so far, whatever tail/since cut.
        sent = lines[-1][0] if lines else None
        if opts.since is not None:
            lines = [line for line in lines if line[0] >= opts.since]
        if opts.tail_lines is not None:
            lines = lines[len(lines) - opts.tail_lines :] if opts.tail_lines else []
        budget = opts.limit_bytes

        def encode(batch: list[LogLine]) -> bytes:
            nonlocal budget
            text = "".join(
                (f"{kubelet_timestamp(at)} " if opts.timestamps else "") + f"{line}\n"
                for at, line in batch
            ).encode()
            if budget is not None:
                text, budget = text[:budget], max(0, budget - len(text))
            return text

        if not opts.follow:
            return web.Response(body=encode(lines), content_type="text/plain")
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            await resp.write(encode(lines))
            uid = pod["metadata"].get("uid", "")
            while run.finished_at is None and budget != 0:
                await asyncio.sleep(FOLLOW_POLL)
                if request.transport is None or request.transport.is_closing():
                    break
                current = self.store.try_get(PODS, namespace, name)
                running = _same_run(current, uid, run)
                if not running and current is not None and current["metadata"].get("uid") == uid:
                    # The run ended (a crash): its last lines, then the stream ends.
                    ended = _terminated_run(
                        container,
                        ((_status(current, container).get("lastState") or {}).get("terminated"))
                        or {},
                    )
                    if ended is not None and ended.container_id == run.container_id:
                        run = ended
                fresh = [
                    line
                    for line in await self._lines(namespace, current or pod, run)
                    if sent is None or line[0] > sent
                ]
                if fresh:
                    await resp.write(encode(fresh))
                    sent = fresh[-1][0]
                if not running:
                    break
            await resp.write_eof()
        except ConnectionResetError:
            pass
        return resp
