"""The simulator's object store: what etcd plus the generic registry are in a real cluster.

Threading: a `Store` is NOT thread-safe. Use it only from the event-loop thread that serves
the API (`SimServer.call(fn, ...)` runs a function there). Every public method is synchronous,
so a read-modify-write such as `update()` can never interleave with another writer.

Objects are plain JSON dicts. The store never hands out its own dicts: `get`/`list`/`create`/
`update` return copies, so callers may change what they get. Every write takes the next value
of one global resourceVersion counter and sets `metadata.uid`, `resourceVersion`,
`creationTimestamp` and `generation` (bumped when anything but metadata - and status, for kinds
with a status subresource - changes). An update that changes nothing keeps the old version and
emits nothing, as the real apiserver does.

Changes are published as `WatchEvent`s (ADDED / MODIFIED / DELETED):
- `watch(rt, ...)` returns a `Watcher`, an async iterator for one HTTP watch or a controller
  loop (`async for ev in store.watch(PODS): ...`); close it when done (`watcher.close()`).
- `subscribe(rt, callback)` calls `callback(event)` synchronously after each change, in order;
  it returns a function that unsubscribes. Keep callbacks short (e.g. put the event on an
  asyncio.Queue) - they run inside the writer's call.
A bounded history of recent events lets a watch resume from a resourceVersion; one older than
the history answers 410 Expired, like a compacted etcd.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import uuid
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ncconsole.sim.apiserver.defaults import apply_defaults
from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.objects import Entry, Obj, dumps, now_iso, validate_name
from ncconsole.sim.apiserver.resources import NAMESPACES, REGISTRY, Registry, ResourceType
from ncconsole.sim.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from ncconsole.sim.apiserver.watchers import Watcher, WatchEvent

__all__ = ["ListPage", "Obj", "Store", "WatchEvent", "Watcher", "dumps", "now_iso"]

log = logging.getLogger(__name__)

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet


@dataclass(frozen=True)
class ListPage:
    """One page of a list: the store's resourceVersion, the entries, and a continue token."""

    resource_version: int
    entries: list[Entry]
    continue_token: str = ""
    remaining: int | None = None


def _meta(obj: Obj) -> Obj:
    return obj.setdefault("metadata", {})


def _spec_part(obj: Obj, rt: ResourceType) -> Obj:
    skip = {"metadata", "status"} if rt.has_status_subresource else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


class Store:
    """In-memory objects of every registered kind, with watch history. See module docstring."""

    def __init__(
        self,
        registry: Registry = REGISTRY,
        *,
        history_limit: int = 10_000,
        max_watch_pending: int = 100_000,
        start_rv: int = 1000,
    ) -> None:
        self.registry = registry
        self._objects: dict[str, dict[str, dict[str, Entry]]] = {}  # rt.key -> ns -> name
        self._sorted: dict[str, list[tuple[str, str]]] = {}  # cached sorted keys per kind
        self._rv = start_rv
        self._history: deque[WatchEvent] = deque(maxlen=history_limit)
        self._history_floor = start_rv  # every event with rv > floor is still in history
        self._watchers: dict[str, set[Watcher]] = {}
        self._subscribers: dict[str | None, list[Callable[[WatchEvent], None]]] = {}
        self._callback_queue: deque[WatchEvent] = deque()
        self._delivering = False
        self._max_watch_pending = max_watch_pending

    # --- reading --------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out."""
        return self._rv

    def _entry(self, rt: ResourceType, namespace: str | None, name: str) -> Entry | None:
        return self._objects.get(rt.key, {}).get(namespace or "", {}).get(name)

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        """A copy of the object; 404 ApiError when it does not exist."""
        entry = self._entry(rt, namespace, name)
        if entry is None:
            raise ApiError.not_found(rt.plural, rt.group, name)
        return json.loads(entry.raw)

    def try_get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        entry = self._entry(rt, namespace, name)
        return None if entry is None else json.loads(entry.raw)

    def get_entry(self, rt: ResourceType, namespace: str | None, name: str) -> Entry:
        """The stored entry (object + cached JSON bytes) - for the HTTP layer, read-only."""
        entry = self._entry(rt, namespace, name)
        if entry is None:
            raise ApiError.not_found(rt.plural, rt.group, name)
        return entry

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> list[Obj]:
        """Copies of the matching objects, sorted by namespace and name."""
        page = self.list_page(rt, namespace, label_selector, field_selector)
        return [json.loads(e.raw) for e in page.entries]

    def list_page(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> ListPage:
        """Entries matching the selectors; `limit`/`continue_token` page like the apiserver.

        `entry.obj` is the stored dict itself: the cheap way to scan many objects, read-only.
        """
        labels = _as_labels(label_selector)
        fields = _as_fields(field_selector, rt)
        start_after: tuple[str, str] | None = None
        list_rv = self._rv
        if continue_token:
            list_rv, start_after = self._decode_continue(continue_token)
        by_ns = self._objects.get(rt.key, {})
        keys = self._sorted_keys(rt)
        lo, hi = 0, len(keys)
        if namespace is not None:  # keys are sorted by (namespace, name): slice one namespace
            lo, hi = bisect_left(keys, (namespace,)), bisect_left(keys, (namespace + "\0",))
        if start_after is not None:
            lo = max(lo, bisect_right(keys, start_after))
        keys = keys[lo:hi]
        entries: list[Entry] = []
        token, remaining = "", None
        for i, (ns, name) in enumerate(keys):
            entry = by_ns[ns][name]
            if labels.matches_object(entry.obj) and fields.matches(entry.obj):
                if limit and len(entries) == limit:
                    token = self._encode_continue(list_rv, entries[-1].obj)
                    remaining = len(keys) - i
                    break
                entries.append(entry)
        return ListPage(list_rv, entries, token, remaining)

    def _sorted_keys(self, rt: ResourceType) -> list[tuple[str, str]]:
        keys = self._sorted.get(rt.key)
        if keys is None:
            by_ns = self._objects.get(rt.key, {})
            keys = sorted((ns, name) for ns, names in by_ns.items() for name in names)
            self._sorted[rt.key] = keys
        return keys

    def _encode_continue(self, rv: int, last: Obj) -> str:
        m = last["metadata"]
        raw = dumps({"rv": rv, "ns": m.get("namespace", ""), "name": m["name"]})
        return base64.urlsafe_b64encode(raw).decode()

    def _decode_continue(self, token: str) -> tuple[int, tuple[str, str]]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            rv, start = int(data["rv"]), (str(data["ns"]), str(data["name"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ApiError.bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion "
                "(version meta.k8s.io/v1)"
            ) from None
        if rv < self._history_floor:
            raise ApiError.expired(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter, or use the "
                "continue token in this response to retrieve the remainder of the results. "
                "Continuing with the provided token results in an inconsistent list - objects "
                "that were created, modified, or deleted between the time the first chunk was "
                "returned and now may show up in the list."
            )
        return rv, start

    # --- writing --------------------------------------------------------------------------
    def create(self, rt: ResourceType, obj: Obj, *, dry_run: bool = False) -> Obj:
        """Store a new object (409 if the name is taken, 404 if its namespace is missing,
        422 for a bad name). `generateName` is honoured. Returns a copy of what was stored;
        with `dry_run` everything is checked and filled in but nothing is stored."""
        obj = json.loads(dumps(obj))
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        meta = _meta(obj)
        namespace = meta.get("namespace") or "" if rt.namespaced else ""
        if rt.namespaced and not namespace:
            raise ApiError.bad_request(
                "the server could not find the requested resource: namespace is required"
            )
        if not rt.namespaced:
            meta.pop("namespace", None)
        if rt.namespaced and self._entry(NAMESPACES, None, namespace) is None:
            raise ApiError.not_found("namespaces", "", namespace)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise ApiError.invalid(
                    rt.kind,
                    rt.group,
                    "",
                    [("metadata.name", "", "name or generateName is required")],
                )
            for _ in range(10):
                meta["name"] = prefix + "".join(
                    secrets.choice(_GENERATE_ALPHABET) for _ in range(5)
                )
                if self._entry(rt, namespace, meta["name"]) is None:
                    break
        name = meta["name"]
        validate_name(rt, name)
        apply_defaults(rt, obj, creating=True)
        if self._entry(rt, namespace, name) is not None:
            raise ApiError.already_exists(rt.plural, rt.group, name)
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(k, None)
        if rt is NAMESPACES:
            obj.setdefault("status", {"phase": "Active"})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if rt.has_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if dry_run:  # nothing was stored: no resourceVersion, as the real server answers
            meta.pop("resourceVersion", None)
            return obj
        meta["resourceVersion"] = str(self._rv + 1)
        self._rv += 1
        entry = Entry(obj)
        self._objects.setdefault(rt.key, {}).setdefault(namespace, {})[name] = entry
        self._sorted.pop(rt.key, None)
        self._emit(WatchEvent("ADDED", rt, obj, self._rv, None, entry))
        return json.loads(entry.raw)

    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        mutate: Callable[[Obj], Obj | None],
        *,
        dry_run: bool = False,
    ) -> Obj:
        """Read-modify-write: `mutate` gets a copy of the current object and returns the new
        one (or changes it in place and returns None). name, namespace, uid and
        creationTimestamp are kept; resourceVersion is bumped and MODIFIED emitted only when
        something changed. `mutate` may raise ApiError (e.g. a Conflict) to abort. Removing
        the last finalizer of an object being deleted deletes it (returns its last state)."""
        entry = self._entry(rt, namespace, name)
        if entry is None:
            raise ApiError.not_found(rt.plural, rt.group, name)
        old = entry.obj
        current = json.loads(entry.raw)
        new = mutate(current)
        new = current if new is None else new
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        apply_defaults(rt, new)
        meta = _meta(new)
        for k in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
            if k in old["metadata"]:
                meta[k] = old["metadata"][k]
            else:
                meta.pop(k, None)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if rt.has_generation:
            meta["generation"] = old["metadata"].get("generation", 1)
        else:
            meta.pop("generation", None)
        if new == old:  # resourceVersion and generation were just copied from `old`
            return json.loads(entry.raw)
        if rt.has_generation and _spec_part(old, rt) != _spec_part(new, rt):
            meta["generation"] += 1
        meta["resourceVersion"] = str(self._rv + 1)
        if dry_run:
            return new
        self._rv += 1
        new_entry = Entry(new)
        self._objects[rt.key][namespace or ""][name] = new_entry
        self._emit(WatchEvent("MODIFIED", rt, new, self._rv, old, new_entry))
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(rt, namespace, name)
        return json.loads(new_entry.raw)

    def delete(
        self, rt: ResourceType, namespace: str | None, name: str, *, dry_run: bool = False
    ) -> Obj:
        """Delete the object and return its last state. An object with finalizers only gets a
        deletionTimestamp (MODIFIED) and goes once an update removes its last finalizer, as in
        Kubernetes. Deleting a namespace removes every object in it first, finalizers or not."""
        entry = self._entry(rt, namespace, name)
        if entry is None:
            raise ApiError.not_found(rt.plural, rt.group, name)
        if dry_run:
            return json.loads(entry.raw)
        if entry.obj["metadata"].get("finalizers"):
            if entry.obj["metadata"].get("deletionTimestamp"):
                return json.loads(entry.raw)
            marked = json.loads(entry.raw)
            _mark_deleted(marked)
            self._rv += 1
            marked["metadata"]["resourceVersion"] = str(self._rv)
            marked_entry = Entry(marked)
            self._objects[rt.key][namespace or ""][name] = marked_entry
            self._emit(WatchEvent("MODIFIED", rt, marked, self._rv, entry.obj, marked_entry))
            return json.loads(marked_entry.raw)
        return self._remove(rt, namespace, name)

    def _remove(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        entry = self._objects[rt.key][namespace or ""][name]
        if rt is NAMESPACES:
            for other in self.registry.types:
                if other.namespaced and other.stored:
                    for child in list(self._objects.get(other.key, {}).get(name, {})):
                        self._remove(other, name, child)
        self._rv += 1
        by_ns = self._objects[rt.key]
        del by_ns[namespace or ""][name]
        if not by_ns[namespace or ""]:
            del by_ns[namespace or ""]
        self._sorted.pop(rt.key, None)
        # The DELETED event carries the object at the deletion's resourceVersion, as k8s does.
        gone = dict(entry.obj, metadata=dict(entry.obj["metadata"], resourceVersion=str(self._rv)))
        gone_entry = Entry(gone)
        self._emit(WatchEvent("DELETED", rt, gone, self._rv, entry.obj, gone_entry))
        return json.loads(gone_entry.raw)

    # --- change notification --------------------------------------------------------------
    def _emit(self, ev: WatchEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._history_floor = self._history[0].rv
        self._history.append(ev)
        for w in list(self._watchers.get(ev.rt.key, ())):
            w.offer(ev)
        self._callback_queue.append(ev)
        if self._delivering:
            return  # a callback wrote: the outer loop delivers this event after the current one
        self._delivering = True
        try:
            while self._callback_queue:
                current = self._callback_queue.popleft()
                for cb in self._subscribers.get(current.rt.key, []) + self._subscribers.get(
                    None, []
                ):
                    try:
                        cb(current)
                    except Exception:
                        log.exception("store subscriber %r failed on %s", cb, current.type)
        finally:
            self._delivering = False

    def subscribe(
        self, rt: ResourceType | None, callback: Callable[[WatchEvent], None]
    ) -> Callable[[], None]:
        """Call `callback(event)` after every change of kind `rt` (None: every kind), in
        resourceVersion order. Returns the function that unsubscribes."""
        key = rt.key if rt is not None else None
        self._subscribers.setdefault(key, []).append(callback)

        def unsubscribe() -> None:
            subs = self._subscribers.get(key, [])
            if callback in subs:
                subs.remove(callback)

        return unsubscribe

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        resource_version: str | int | None = None,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> Watcher:
        """Start a watch. Without a resourceVersion (or "0") it begins with an ADDED event for
        every matching object; with one it replays the later events from history, or raises
        ApiError 410 Expired when that version is older than the history kept."""
        watcher = Watcher(
            self._unwatch,
            rt,
            namespace,
            _as_labels(label_selector),
            _as_fields(field_selector, rt),
            self._max_watch_pending,
        )
        rv = str(resource_version or "")
        if rv in ("", "0"):
            for entry in self.list_page(rt, namespace).entries:
                watcher.offer(WatchEvent("ADDED", rt, entry.obj, self._rv, None, entry))
        else:
            try:
                since = int(rv)
            except ValueError:
                raise ApiError.bad_request(f"invalid resource version: {rv!r}") from None
            if since < self._history_floor:
                raise ApiError.expired(
                    f"too old resource version: {since} ({self._history_floor + 1})"
                )
            for ev in self._history:
                if ev.rv > since and ev.rt.key == rt.key:
                    watcher.offer(ev)
        self._watchers.setdefault(rt.key, set()).add(watcher)
        return watcher

    def _unwatch(self, watcher: Watcher) -> None:
        self._watchers.get(watcher.rt.key, set()).discard(watcher)

    def close_all_watches(self) -> None:
        """End every open watch (their streams finish), e.g. before shutting down."""
        for watchers in list(self._watchers.values()):
            for w in list(watchers):
                w.close()

    def watcher_count(self) -> int:
        return sum(len(ws) for ws in self._watchers.values())

    def count(self, rt: ResourceType) -> int:
        return sum(len(names) for names in self._objects.get(rt.key, {}).values())


def _mark_deleted(obj: Obj) -> None:
    obj["metadata"]["deletionTimestamp"] = now_iso()
    obj["metadata"]["deletionGracePeriodSeconds"] = 0


def _as_labels(sel: str | LabelSelector | None) -> LabelSelector:
    return sel if isinstance(sel, LabelSelector) else parse_label_selector(sel)


def _as_fields(sel: str | FieldSelector | None, rt: ResourceType) -> FieldSelector:
    return sel if isinstance(sel, FieldSelector) else parse_field_selector(sel, rt.kind)
