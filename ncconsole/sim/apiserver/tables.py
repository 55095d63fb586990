"""`meta.k8s.io/v1` Table responses, which `kubectl get` asks for in its Accept header.

Columns follow the real printers: pods (Name, Ready, Status, Restarts, Age), deployments,
namespaces, Argo CD Applications (their CRD's printer columns) and Name/Age for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ncconsole.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, int, Callable[[Obj], Any]]  # name, type, priority, cell


def human_age(timestamp: str | None, now: datetime | None = None) -> str:
    """Age like kubectl prints it: 45s, 3m12s, 5h, 12d."""
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    secs = int(((now or datetime.now(UTC)) - then).total_seconds())
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def _name(o: Obj) -> str:
    return o["metadata"]["name"]


def _age(o: Obj) -> str:
    return human_age(o["metadata"].get("creationTimestamp"))


def _pod_ready(o: Obj) -> str:
    statuses = (o.get("status") or {}).get("containerStatuses") or []
    total = len((o.get("spec") or {}).get("containers") or []) or len(statuses)
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(o: Obj) -> str:
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = o.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            return state["waiting"]["reason"]
        if (state.get("terminated") or {}).get("reason"):
            return state["terminated"]["reason"]
    return reason


def _pod_restarts(o: Obj) -> int:
    statuses = (o.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount", 0)) for s in statuses)


def _path(*keys: str) -> Callable[[Obj], Any]:
    def get(o: Obj) -> Any:
        node: Any = o
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        return "" if node is None else node

    return get


NAME: Column = ("Name", "string", 0, _name)
AGE: Column = ("Age", "string", 0, _age)
COLUMNS: dict[str, list[Column]] = {
    "Pod": [
        NAME,
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        ("Restarts", "integer", 0, _pod_restarts),
        AGE,
        ("IP", "string", 1, _path("status", "podIP")),
        ("Node", "string", 1, _path("spec", "nodeName")),
    ],
    "Deployment": [
        NAME,
        (
            "Ready",
            "string",
            0,
            lambda o: (
                f"{_path('status', 'readyReplicas')(o) or 0}/{_path('spec', 'replicas')(o) or 0}"
            ),
        ),
        ("Up-to-date", "integer", 0, lambda o: _path("status", "updatedReplicas")(o) or 0),
        ("Available", "integer", 0, lambda o: _path("status", "availableReplicas")(o) or 0),
        AGE,
    ],
    "Namespace": [NAME, ("Status", "string", 0, _path("status", "phase")), AGE],
    "Lease": [NAME, ("Holder", "string", 0, _path("spec", "holderIdentity")), AGE],
    "Application": [
        NAME,
        ("Sync Status", "string", 0, _path("status", "sync", "status")),
        ("Health Status", "string", 0, _path("status", "health", "status")),
        ("Revision", "string", 10, _path("status", "sync", "revision")),
        ("Project", "string", 10, _path("spec", "project")),
    ],
}


def table(rt: ResourceType, objects: list[Obj], metadata: Obj, include_object: str) -> Obj:
    """A Table of `objects`; `include_object` is None, Metadata (default) or Object."""
    columns = COLUMNS.get(rt.kind, [NAME, AGE])
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [
            {
                "name": n,
                "type": t,
                "format": "name" if n == "Name" else "",
                "description": n,
                "priority": p,
            }
            for n, t, p, _ in columns
        ],
        "rows": [
            {
                "cells": [cell(o) for _, _, _, cell in columns],
                "object": _row_object(o, include_object),
            }
            for o in objects
        ],
    }


def _row_object(o: Obj, include_object: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return o
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o["metadata"],
    }
