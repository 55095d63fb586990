"""Serving one `?watch=1` request: a chunked stream of JSON event lines.

Honours `resourceVersion` (only later events; too old -> an ERROR event carrying a 410
Expired Status, as the apiserver's watch cache does), `allowWatchBookmarks` (a BOOKMARK every
`bookmark_interval` seconds and one when the watch times out), `sendInitialEvents` (the
current objects, then a BOOKMARK annotated `k8s.io/initial-events-end`), `timeoutSeconds`,
and the "drop watches after N seconds" fault (the stream just ends). The store's watcher is
always closed when the stream ends, whether the client went away or not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.resources import ResourceType
from ncconsole.sim.apiserver.selectors import FieldSelector, LabelSelector
from ncconsole.sim.apiserver.store import Store, WatchEvent, dumps

_DISCONNECT_CHECK = 2.0  # seconds between checks that an idle client is still there


@dataclass(frozen=True)
class WatchParams:
    namespace: str | None
    resource_version: str
    labels: LabelSelector
    fields: FieldSelector
    timeout: float
    bookmarks: bool
    initial_events: bool
    drop_after: float | None
    bookmark_interval: float


def _bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> bytes:
    meta: dict = {"resourceVersion": str(rv), "creationTimestamp": None}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}
    return b'{"type":"BOOKMARK","object":' + dumps(obj) + b"}\n"


async def serve_watch(
    request: web.Request,
    store: Store,
    rt: ResourceType,
    p: WatchParams,
    encode: Callable[[WatchEvent], bytes] | None = None,
) -> web.StreamResponse:
    """Stream events until timeout, fault or disconnect. `encode` turns an event into a line
    (default: the plain object; the server passes a Table encoder for kubectl get -w)."""
    encode = encode or WatchEvent.line
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    try:
        since = "" if p.initial_events else p.resource_version
        watcher = store.watch(rt, p.namespace, since, p.labels, p.fields)
    except ApiError as err:
        if err.code != 410:
            raise
        await resp.prepare(request)
        await resp.write(b'{"type":"ERROR","object":' + json.dumps(err.status()).encode() + b"}\n")
        await resp.write_eof()
        return resp
    initial_left = watcher.pending() if p.initial_events else 0
    initial_rv = store.resource_version
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + p.timeout
    dropped = p.drop_after is not None and start + p.drop_after < end
    if dropped:
        end = start + p.drop_after  # type: ignore[operator]
    next_bookmark = start + p.bookmark_interval
    await resp.prepare(request)
    try:
        if p.initial_events and initial_left == 0 and p.bookmarks:
            await resp.write(_bookmark(rt, initial_rv, initial_end=True))
        while True:
            now = loop.time()
            if now >= end or (watcher.closed and not watcher.pending()):
                break
            wait = min(end, next_bookmark, now + _DISCONNECT_CHECK) - now
            ev = await watcher.next(timeout=max(wait, 0.0))
            if request.transport is None or request.transport.is_closing():
                break
            if ev is not None:
                await resp.write(encode(ev))
                if initial_left:
                    initial_left -= 1
                    if initial_left == 0 and p.bookmarks:
                        await resp.write(_bookmark(rt, initial_rv, initial_end=True))
            elif p.bookmarks and loop.time() >= next_bookmark:
                await resp.write(_bookmark(rt, store.resource_version))
                next_bookmark = loop.time() + p.bookmark_interval
        if p.bookmarks and not dropped and not watcher.pending():
            await resp.write(_bookmark(rt, store.resource_version))
        await resp.write_eof()
    except ConnectionResetError:
        pass
    finally:
        watcher.close()
    return resp
