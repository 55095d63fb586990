"""Kubernetes Events the console records about its own actions (the audit trail's second
copy, ops/audit.py), so colleagues see them in `kubectl get events`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.writes import create


def record_event(
    conn: KubeConnection,
    namespace: str,
    *,
    reason: str,
    message: str,
    warning: bool = False,
    involved_kind: str = "Namespace",
    involved_name: str = "",
    component: str = "ncconsole",
) -> dict[str, Any]:
    """A core/v1 Event in `namespace`, about the namespace itself unless told otherwise.

    `involvedObject.namespace` is always the Event's own namespace, even for the (cluster-
    scoped) Namespace: the apiserver refuses a legacy Event whose involved object names no
    namespace unless the Event lives in `default` (legacyValidateEvent, kubernetes
    pkg/apis/core/validation/events.go), and `default` is where no one would look."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    involved = {
        "kind": involved_kind,
        "name": involved_name or namespace,
        "namespace": namespace,
        "apiVersion": "v1",
    }
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"ncconsole.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    return create(conn, f"/api/v1/namespaces/{namespace}/events", body)
