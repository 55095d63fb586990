"""The ApplicationSet controller's RollingSync strategy.

Applications are matched to the steps of `spec.strategy.rollingSync.steps` by their labels
(`matchExpressions`, operators In/NotIn; any other operator selects nothing, as in
progressive_sync.go); an Application no step matches gets step "-1" and is never synced.
Step by step, once every Application of the earlier steps is Healthy and Synced, the
controller writes an `operation` onto the OutOfSync Applications of the step (at most
`maxUpdate` at a time) - except in steps with `maxUpdate: 0`, which wait for someone else
(the console) to sync them. `status.applicationStatus[]` reports each Application's
step and status (Waiting | Pending | Progressing | Healthy) with Argo CD's messages.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from ncconsole.sim.apiserver.resources import APPLICATIONS, APPLICATIONSETS
from ncconsole.sim.apiserver.store import Store, WatchEvent, now_iso

Obj = dict[str, Any]
MESSAGES = {
    "Waiting": "Application has pending changes, setting status to Waiting.",
    "Pending": "Application moved to Pending status, watching for the Application resource to "
    "start Progressing.",
    "Progressing": "Application resource became Progressing, updating status from Pending to "
    "Progressing.",
    "Healthy": "Application resource is already Healthy, updating status from Waiting to Healthy.",
}
SYNC_REASON = "ApplicationSet RollingSync triggered a sync of this Application resource."


def _matches(expressions: list[Obj], labels: dict[str, str]) -> bool:
    """progressive_sync.go: In/NotIn only - another operator on a present label selects
    nothing - and a missing label fails only an In."""
    for expr in expressions:
        key, op = str(expr.get("key", "")), str(expr.get("operator") or "")
        values = [str(v) for v in expr.get("values") or []]
        if key in labels:
            if op not in ("In", "NotIn") or (labels[key] in values) != (op == "In"):
                return False
        elif op == "In":
            return False
    return True


def step_of(steps: list[Obj], labels: dict[str, str]) -> int:
    """The 1-based step matching `labels`, or -1."""
    for i, step in enumerate(steps, start=1):
        if _matches(step.get("matchExpressions") or [], labels):
            return i
    return -1


def _batch(max_update: Any, size: int) -> int:
    if max_update is None:
        return size
    if isinstance(max_update, str) and max_update.endswith("%"):
        return max(1, math.floor(size * int(max_update[:-1]) / 100)) if size else 0
    return int(max_update)


class RollingSyncController:
    def __init__(self, store: Store, namespace: str, name: str, tick: float = 0.1) -> None:
        self.store, self.namespace, self.name = store, namespace, name
        self.tick = tick
        self._scheduled = False
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        self._unsubscribe = [
            self.store.subscribe(APPLICATIONS, self._on_change),
            self.store.subscribe(APPLICATIONSETS, self._on_change),
        ]
        self.reconcile()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _on_change(self, ev: WatchEvent) -> None:
        if (
            ev.rt is APPLICATIONSETS
            and ev.old is not None
            and ev.old.get("spec") == ev.obj.get("spec")
        ):
            return  # our own status write
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(self.tick, self.reconcile)

    def reconcile(self) -> None:
        self._scheduled = False
        appset = self.store.try_get(APPLICATIONSETS, self.namespace, self.name)
        strategy = ((appset or {}).get("spec") or {}).get("strategy") or {}
        if appset is None or strategy.get("type") != "RollingSync":
            return
        steps = (strategy.get("rollingSync") or {}).get("steps") or []
        previous = {
            s["application"]: s for s in (appset.get("status") or {}).get("applicationStatus") or []
        }
        # The store's own objects (read only, never changed here): no copies of every
        # Application on each tick of a large fleet.
        apps = [
            a
            for a in (e.obj for e in self.store.list_page(APPLICATIONS, self.namespace).entries)
            if any(o.get("name") == self.name for o in a["metadata"].get("ownerReferences") or [])
        ]
        by_step: dict[int, list[tuple[Obj, str]]] = {}
        for app in apps:
            step = step_of(steps, app["metadata"].get("labels") or {})
            before = (previous.get(app["metadata"]["name"]) or {}).get("status", "")
            by_step.setdefault(step, []).append((app, self._status(app, before)))
        entries: list[Obj] = []
        blocked = False
        for index in range(1, len(steps) + 1):
            members = by_step.get(index, [])
            if not blocked:
                self._advance(members, steps[index - 1].get("maxUpdate"))
            blocked = blocked or any(status != "Healthy" for _, status in members)
        for step, members in by_step.items():
            for app, status in members:
                entries.append(self._entry(app, step, status, previous))
        entries.sort(key=lambda e: e["application"])
        if entries != (appset.get("status") or {}).get("applicationStatus"):

            def mutate(obj: Obj) -> None:
                obj.setdefault("status", {})["applicationStatus"] = entries

            self.store.update(APPLICATIONSETS, self.namespace, self.name, mutate)

    @staticmethod
    def _status(app: Obj, before: str) -> str:
        st = app.get("status") or {}
        synced_healthy = (st.get("sync") or {}).get("status") == "Synced" and (
            st.get("health") or {}
        ).get("status") == "Healthy"
        if (st.get("operationState") or {}).get("phase") == "Running":
            return "Progressing"
        if app.get("operation"):
            return "Pending"
        if before in ("Pending", "Progressing") and not synced_healthy:
            return "Progressing"
        return "Healthy" if synced_healthy else "Waiting"

    def _advance(self, members: list[tuple[Obj, str]], max_update: Any) -> None:
        """Start syncs in this step, up to its batch size, unless the step is manual."""
        batch = _batch(max_update, len(members))
        busy = sum(1 for _, status in members if status in ("Pending", "Progressing"))
        for i, (app, status) in enumerate(members):
            if busy >= batch:
                return
            sync = ((app.get("status") or {}).get("sync") or {}).get("status")
            if status == "Waiting" and sync == "OutOfSync" and not app.get("operation"):
                operation = {
                    "initiatedBy": {"username": "applicationset-controller", "automated": True},
                    "info": [{"name": "Reason", "value": SYNC_REASON}],
                    "sync": {"syncStrategy": {"hook": {}}},
                }
                name = app["metadata"]["name"]
                updated = self.store.update(
                    APPLICATIONS,
                    self.namespace,
                    name,
                    lambda a, op=operation: {**a, "operation": op},
                )
                members[i] = (updated, "Pending")
                busy += 1

    @staticmethod
    def _entry(app: Obj, step: int, status: str, previous: dict[str, Obj]) -> Obj:
        name = app["metadata"]["name"]
        before = previous.get(name) or {}
        sync = (app.get("status") or {}).get("sync") or {}
        # progressive_sync.go: app.Status.GetRevisions(), the revisions or [the revision].
        revisions = list(
            sync.get("revisions") or ([sync["revision"]] if sync.get("revision") else [])
        )
        changed = before.get("status") != status
        message = MESSAGES[status]
        if status == "Healthy" and before.get("status") == "Progressing":
            message = message.replace("from Waiting", "from Progressing")
        return {
            "application": name,
            "lastTransitionTime": now_iso() if changed else before.get("lastTransitionTime"),
            "message": message if changed else before.get("message", message),
            "status": status,
            "step": str(step),
            "targetRevisions": revisions,
        }
