"""Watch events and watchers: how changes in the store reach HTTP watches and controllers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ncconsole.sim.apiserver.objects import Entry, Obj, dumps
from ncconsole.sim.apiserver.resources import ResourceType
from ncconsole.sim.apiserver.selectors import FieldSelector, LabelSelector


@dataclass(frozen=True)
class WatchEvent:
    """One change. `obj` and `old` are the store's own dicts: read them, never modify them."""

    type: str  # ADDED | MODIFIED | DELETED (| BOOKMARK | ERROR on the wire only)
    rt: ResourceType
    obj: Obj
    rv: int
    old: Obj | None = None
    entry: Entry | None = None

    @property
    def raw_object(self) -> bytes:
        return self.entry.raw if self.entry is not None else dumps(self.obj)

    def line(self) -> bytes:
        """The event as one line of a watch stream."""
        return b'{"type":"' + self.type.encode() + b'","object":' + self.raw_object + b"}\n"


class Watcher:
    """A stream of events for one watch; async-iterate it, `close()` it when done."""

    def __init__(
        self,
        on_close: Callable[[Watcher], None],
        rt: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        max_pending: int,
    ) -> None:
        self._on_close, self.rt, self.namespace = on_close, rt, namespace
        self._labels, self._fields = labels, fields
        self._pending: deque[WatchEvent] = deque()
        self._wakeup = asyncio.Event()
        self._max_pending = max_pending
        self.closed = False
        self.overflowed = False

    def _matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return self._labels.matches_object(obj) and self._fields.matches(obj)

    def offer(self, ev: WatchEvent) -> None:
        """Queue `ev` if it concerns this watch, translated the way the apiserver does it:
        an object that starts or stops matching the selectors is ADDED or DELETED."""
        if self.closed:
            return
        now, before = self._matches(ev.obj), self._matches(ev.old)
        if ev.type == "MODIFIED" and now != before:
            ev = WatchEvent("ADDED" if now else "DELETED", ev.rt, ev.obj, ev.rv, ev.old, ev.entry)
        elif not now:
            return
        self._pending.append(ev)
        if len(self._pending) > self._max_pending:
            self.overflowed = True  # a consumer this slow gets its watch closed, as in k8s
            self.close()
        self._wakeup.set()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close(self)
            self._wakeup.set()

    def pending(self) -> int:
        return len(self._pending)

    async def next(self, timeout: float | None = None) -> WatchEvent | None:
        """The next event, or None after `timeout` seconds or when the watch is closed."""
        while not self._pending:
            if self.closed:
                return None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                return None
        return self._pending.popleft()

    def __aiter__(self) -> AsyncIterator[WatchEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[WatchEvent]:
        try:
            while (ev := await self.next()) is not None:
                yield ev
        finally:
            self.close()
