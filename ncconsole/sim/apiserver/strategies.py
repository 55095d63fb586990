"""What the real apiserver's registry strategies do to request bodies before storing them.

Status belongs to the server on create; with a status subresource the main resource cannot
change status and `/status` can change only status; kubectl's protobuf bodies are decoded.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ncconsole.sim.apiserver import protobuf_bodies
from ncconsole.sim.apiserver.resources import ResourceType


async def read_body(request: web.Request) -> Any:
    """The request body as JSON data (JSON, or the protobuf kinds kubectl sends)."""
    raw = await request.read()
    if request.content_type == "application/vnd.kubernetes.protobuf":
        return protobuf_bodies.decode(raw)
    return json.loads(raw) if raw.strip() else {}


def prepare_for_create(rt: ResourceType, obj: dict) -> None:
    """What the real registry strategies do on create: status is the server's to set."""
    if rt.kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif rt.kind == "Namespace":
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
    elif rt.kind == "Deployment":
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        rolling = {"maxUnavailable": "25%", "maxSurge": "25%"}
        spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": rolling})
        obj["status"] = {}
    elif rt.has_status_subresource:
        obj.pop("status", None)


def keep_status_rules(rt: ResourceType, subresource: str | None, current: dict, new: dict) -> dict:
    """With a status subresource, the main resource cannot change status and `/status`
    can change only status, as in Kubernetes."""
    if not rt.has_status_subresource:
        return new
    if subresource == "status":
        result = dict(current)
        if "status" in new:
            result["status"] = new["status"]
        else:
            result.pop("status", None)
        meta = dict(current["metadata"])
        result["metadata"] = meta
        return result
    result = dict(new)
    if "status" in current:
        result["status"] = current["status"]
    else:
        result.pop("status", None)
    return result


def scale_of(deployment: dict) -> dict:
    """The autoscaling/v1 Scale subresource of a Deployment."""
    meta = deployment["metadata"]
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (deployment.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (deployment.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }
