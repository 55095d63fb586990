"""core/v1 Events written the way the real components write them.

A repeated event (same object, reason and message) bumps `count` and `lastTimestamp` on the
existing Event instead of adding one, as the kubelet's event correlator does. Events expire
after `ttl` seconds (the apiserver's default is one hour) and the oldest go first beyond
`max_events`, which keeps a long-running simulator's memory flat however much its pods churn.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Any

from ncconsole.sim.apiserver.resources import EVENTS
from ncconsole.sim.apiserver.store import Store, now_iso

Obj = dict[str, Any]


class EventRecorder:
    def __init__(self, store: Store, ttl: float = 3600.0, max_events: int = 20_000) -> None:
        self.store = store
        self.ttl = ttl
        self.max_events = max_events
        self._by_key: dict[tuple[str, str, str, str], str] = {}  # -> event name
        self._expiry: deque[tuple[float, tuple[str, str, str, str], str]] = deque()

    def record(
        self,
        obj: Obj,
        reason: str,
        message: str,
        *,
        type_: str = "Normal",
        component: str = "kubelet",
        host: str = "",
        field_path: str = "",
    ) -> None:
        """Record that `reason` happened to `obj` (a stored object)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (namespace, meta.get("uid", meta["name"]), reason, message)
        self._expire()
        stamp = now_iso()
        name = self._by_key.get(key)
        if name is not None and self.store.try_get(EVENTS, namespace, name) is not None:

            def bump(ev: Obj) -> None:
                ev["count"] = int(ev.get("count") or 1) + 1
                ev["lastTimestamp"] = stamp

            self.store.update(EVENTS, namespace, name, bump)
            return
        involved = {
            "kind": obj.get("kind", ""),
            "namespace": namespace,
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        name = f"{meta['name']}.{secrets.token_hex(8)}"
        source = {"component": component, **({"host": host} if host else {})}
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        self.store.create(EVENTS, event)
        self._by_key[key] = name
        self._expiry.append((time.monotonic() + self.ttl, key, name))

    def _expire(self) -> None:
        now = time.monotonic()
        while self._expiry and (self._expiry[0][0] <= now or len(self._expiry) > self.max_events):
            _, key, name = self._expiry.popleft()
            if self._by_key.get(key) == name:
                del self._by_key[key]
            if self.store.try_get(EVENTS, key[0], name) is not None:
                self.store.delete(EVENTS, key[0], name)
