"""Whole objects as the API has them (raw JSON), for describe/YAML and the full event list:
one tenant's pods, Deployment, Application and Secret, and the Events about them.

The fleet watches keep slim views; these reads fetch the one object the user asked for, when
they asked, so nothing here grows with the fleet.
"""

from __future__ import annotations

from typing import Any

from ncconsole.kube.argocd import app_path
from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.writes import secret_path

Obj = dict[str, Any]


def pod_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{namespace}/pods"
    return f"{base}/{name}" if name else base


def deployment_path(namespace: str, name: str = "") -> str:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    return f"{base}/{name}" if name else base


def events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/events"


def list_items(conn: KubeConnection, path: str, *, labels: str = "", fields: str = "") -> list[Obj]:
    query = {"labelSelector": labels or None, "fieldSelector": fields or None}
    answer = conn.get_json(path, query)
    return [item for item in answer.get("items") or [] if isinstance(item, dict)]


def get_pod(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(pod_path(namespace, name))


def get_deployment(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(deployment_path(namespace, name))


def get_application(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(app_path(namespace, name))


def get_secret(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.get_json(secret_path(namespace, name))


def list_events(conn: KubeConnection, namespace: str, *, about: str = "") -> list[Obj]:
    """core/v1 Events in `namespace` (only those about the object named `about`, if given)."""
    fields = f"involvedObject.name={about}" if about else ""
    return list_items(conn, events_path(namespace), fields=fields)
