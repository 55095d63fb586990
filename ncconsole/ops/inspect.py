"""Describe and YAML for a tenant's objects (pod, Deployment, Application, Secret) and all of
its Events, read when asked (the describe text itself: render/describe.py).

What is shown is made safe first (`clean`): `managedFields` dropped unless asked for, a
Secret's values replaced by their sizes (keys only), a literal env value or any mapping value
under a secret-looking key masked, and a Secret's last-applied annotation (which repeats the
data) dropped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from ncconsole.fleet.watches import NEXTCLOUD_SELECTOR
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.objects import (
    deployment_path,
    get_application,
    get_pod,
    get_secret,
    list_events,
    list_items,
    pod_path,
)
from ncconsole.kube.views import EventView, parse_event
from ncconsole.masking import MASK, SECRET_NAME, secret_size
from ncconsole.ops.errors import AccessDenied, OpsError
from ncconsole.ops.guard import forbidden_message
from ncconsole.settings import Settings

Obj = dict[str, Any]
KINDS = ("pod", "deployment", "application", "secret")
TYPES = {
    "pod": ("v1", "Pod"),
    "deployment": ("apps/v1", "Deployment"),
    "application": ("argoproj.io/v1alpha1", "Application"),
    "secret": ("v1", "Secret"),
}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class TenantObject:
    kind: str  # one of KINDS
    namespace: str
    name: str
    raw: Obj

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


def _read(kind: str, namespace: str, fetch: Callable[[], Any], group: str = "") -> Any:
    resource = {"application": "applications"}.get(kind, f"{kind}s")
    try:
        return fetch()
    except ApiStatusError as err:
        if err.status == 403:
            message = forbidden_message("get", resource, namespace, group=group)
            raise AccessDenied(message) from None
        if err.status == 404:
            raise OpsError(f"{namespace}: {err.message or f'no such {kind}'}") from None
        raise


def tenant_objects(
    conn: KubeConnection, settings: Settings, tenant: str, kind: str, name: str = ""
) -> list[TenantObject]:
    """The tenant's objects of `kind` (every Nextcloud pod unless `name` picks one)."""
    namespace = settings.namespace_for(tenant)
    if kind == "pod":
        if name:
            raws = [_read(kind, namespace, lambda: get_pod(conn, namespace, name))]
        else:
            path = pod_path(namespace)
            raws = _read(kind, namespace, lambda: list_items(conn, path, labels=NEXTCLOUD_SELECTOR))
    elif kind == "deployment":
        path = deployment_path(namespace)
        raws = _read(kind, namespace, lambda: list_items(conn, path, labels=NEXTCLOUD_SELECTOR))
        if name:
            raws = [r for r in raws if (r.get("metadata") or {}).get("name") == name]
    elif kind == "application":
        app_ns, app = settings.argocd_namespace, name or settings.app_name_for(tenant)
        raw = _read(kind, app_ns, lambda: get_application(conn, app_ns, app), "argoproj.io")
        return [TenantObject(kind, app_ns, app, raw)]
    elif kind == "secret":
        secret = name or settings.secret.name
        raws = [_read(kind, namespace, lambda: get_secret(conn, namespace, secret))]
    else:
        raise OpsError(f"unknown kind '{kind}'; one of: {', '.join(KINDS)}")
    if not raws:
        raise OpsError(f"tenant {tenant}: no {kind} in {namespace} ({NEXTCLOUD_SELECTOR})")
    # A list's items carry no apiVersion/kind (like the real apiserver's); put them back.
    api_version, kind_name = TYPES[kind]
    return [
        TenantObject(
            kind, namespace, str((raw.get("metadata") or {}).get("name", "")),
            {"apiVersion": api_version, "kind": kind_name, **raw},
        )
        for raw in sorted(raws, key=lambda r: (r.get("metadata") or {}).get("name", ""))
    ]  # fmt: skip


# -- making an object safe to show -------------------------------------------------------------


def _mask_values(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and SECRET_NAME.search(key) and isinstance(item, str | int):
                out[key] = MASK if item not in ("", None) else item
            else:
                out[key] = _mask_values(item)
        if isinstance(out.get("name"), str) and "value" in out and SECRET_NAME.search(out["name"]):
            out["value"] = MASK  # an env var given literally: {name: X_PASSWORD, value: ...}
        return out
    if isinstance(value, list):
        return [_mask_values(item) for item in value]
    return value


def clean(obj: Obj, *, managed_fields: bool = False) -> Obj:
    """A copy of `obj` that is safe to show (see the module docstring)."""
    # kubectl's order: apiVersion, kind, metadata first.
    first = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    out = copy.deepcopy({**first, **{k: v for k, v in obj.items() if k not in first}})
    meta = out.get("metadata") or {}
    if not managed_fields:
        meta.pop("managedFields", None)
    if out.get("kind") == "Secret" or ("data" in out and "type" in out and "spec" not in out):
        (meta.get("annotations") or {}).pop(LAST_APPLIED, None)
        out["data"] = {
            key: f"<{secret_size(v)} bytes, hidden>" for key, v in (out.get("data") or {}).items()
        }
        if "stringData" in out:
            out["stringData"] = {key: "<hidden>" for key in out["stringData"] or {}}
        return out
    return _mask_values(out)


def to_yaml(obj: Obj) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_json(obj: Obj) -> str:
    return json.dumps(obj, indent=2)


# -- events -----------------------------------------------------------------------------------


def tenant_events(conn: KubeConnection, settings: Settings, tenant: str) -> list[EventView]:
    """Every Event of the tenant, newest first: its namespace's and its Application's."""
    namespace, app = settings.namespace_for(tenant), settings.app_name_for(tenant)
    raws = _read("event", namespace, lambda: list_events(conn, namespace))
    try:
        raws += list_events(conn, settings.argocd_namespace, about=app)
    except ApiStatusError as err:
        if err.status != 403:  # the Application's events are a bonus, not a need
            raise
    views = [parse_event(raw) for raw in raws]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(views, key=lambda e: e.last_seen or oldest, reverse=True)


def event_dict(event: EventView) -> dict[str, Any]:
    return {
        "last_seen": event.last_seen.isoformat() if event.last_seen else None,
        "type": event.type,
        "reason": event.reason,
        "object": f"{event.involved_kind.lower()}/{event.involved_name}",
        "namespace": event.namespace,
        "count": event.count,
        "message": event.message,
    }
