"""A pod's container log through the API (`pods/NAME/log`): one read, or a followed stream.

Lines are always asked for with `timestamps=true` (the kubelet's RFC 3339 nano prefix), so
callers can interleave several pods by time and show or hide the stamp themselves. The API's
refusals (400 "previous terminated container ... not found", 422 for bad options) come back as
ApiStatusError carrying the server's message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import urllib3
from kubernetes.watch.watch import iter_resp_lines

from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.views import parse_time

# A followed log may be quiet for long; the stream is reopened after this many seconds of
# silence (from the last line's time), so a vanished API is noticed.
FOLLOW_READ_TIMEOUT = 300.0


@dataclass(frozen=True)
class LogQuery:
    container: str = "nextcloud"
    previous: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: datetime | None = None

    def params(self, follow: bool = False) -> dict[str, object]:
        query: dict[str, object] = {"container": self.container, "timestamps": "true"}
        if self.previous:
            query["previous"] = "true"
        if follow:
            query["follow"] = "true"
        if self.tail_lines is not None:
            query["tailLines"] = self.tail_lines
        if self.since_time is not None:
            query["sinceTime"] = self.since_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif self.since_seconds is not None:
            query["sinceSeconds"] = self.since_seconds
        return query


@dataclass(frozen=True)
class StampedLine:
    at: datetime | None
    text: str


def log_path(namespace: str, pod: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/log"


def split_stamp(line: str) -> StampedLine:
    """`2026-01-02T03:04:05.123456789Z text` -> (that time, text); no stamp -> (None, line)."""
    stamp, sep, rest = line.partition(" ")
    if sep and stamp[:1].isdigit() and stamp.endswith("Z"):
        # Python keeps microseconds: cut the nanoseconds' last three digits.
        head, dot, fraction = stamp[:-1].partition(".")
        at = parse_time(f"{head}.{fraction[:6]}Z" if dot else stamp)
        if at is not None:
            return StampedLine(at, rest)
    return StampedLine(None, line)


def read_pod_log(
    conn: KubeConnection, namespace: str, pod: str, query: LogQuery
) -> list[StampedLine]:
    """The log as it is now (ApiStatusError for the API's refusals)."""
    text = conn.get_text(log_path(namespace, pod), query.params())
    return [split_stamp(line) for line in text.splitlines()]


def follow_pod_log(
    conn: KubeConnection,
    namespace: str,
    pod: str,
    query: LogQuery,
    on_line: Callable[[StampedLine], None],
    cancel: Cancel,
) -> str:
    """Stream the log to `on_line` until the run ends ("ended"), the connection goes quiet or
    breaks ("broken": reopen from the last line's time) or `cancel` ("cancelled")."""
    stream = conn.open_stream(
        log_path(namespace, pod), query.params(follow=True), FOLLOW_READ_TIMEOUT, accept="*/*"
    )
    cancel._register(stream)
    try:
        for line in _lines(stream):
            if cancel.is_set():
                return "cancelled"
            on_line(split_stamp(line))
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        return "cancelled" if cancel.is_set() else "broken"
    finally:
        cancel._unregister(stream)
        stream.release_conn()
    return "cancelled" if cancel.is_set() else "ended"


def _lines(stream: object) -> Iterator[str]:
    for line in iter_resp_lines(stream):
        yield line if isinstance(line, str) else line.decode("utf-8", errors="replace")
