"""The stable JSON records of `ncconsole status --format json`: one per tenant and one for the
snapshot around them. Keys only grow; scripts depend on them.

Every value comes from the same place as the console's cell for it (fleet/health.py for the
counts, the TenantState for the rest), so the JSON and the fleet table cannot disagree.
"""

from __future__ import annotations

from typing import Any

from ncconsole.fleet.health import data_checked_at, pods_ready
from ncconsole.fleet.model import DeploymentView, FleetSnapshot, TenantState
from ncconsole.render.access import unreadable_namespaces
from ncconsole.render.platform import alert_record, platform_record


def tenant_record(t: TenantState) -> dict[str, Any]:
    """One tenant: the fleet row's columns as values, plus what scripts filter on."""
    app, web, s3 = t.app, t.web, t.s3
    ready, desired = pods_ready(t.pods, t.deployment)
    checked = data_checked_at(t)
    return {
        "name": t.name,
        "wave": t.wave,
        "environment": t.environment,
        "namespace": t.namespace,
        "in_repo": t.in_repo,
        "health": t.health.value,
        "reason": t.reason,
        "drift": list(t.drift),
        "sync": app.sync_status if app else None,
        "argo_health": app.health_status if app else None,
        "pods_ready": ready,
        "pods_desired": desired,
        "restarts": sum(p.restarts for p in t.pods),
        "version": (web.versionstring or web.version or None) if web else None,
        "maintenance": web.maintenance if web else None,
        "web_error": web.error if web and not web.ok else None,
        "s3": s3.state if s3 else None,
        "s3_objects": s3.object_count if s3 else None,
        "s3_bytes": s3.bytes_used if s3 else None,
        "smoke": t.smoke.as_dict() if t.smoke else None,
        "checked_at": checked.isoformat() if checked else None,
        # From the shared platform's reading: None when Alertmanager was not read.
        "alerts_firing": len(t.platform.firing) if t.platform.alerts_known else None,
        "alerts": [alert_record(a) for a in t.platform.alerts],
        "platform_problems": t.platform.problems,
    }


def _deployment(view: DeploymentView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {"name": view.name, "ready": view.ready_replicas, "desired": view.replicas}


def snapshot_record(snapshot: FleetSnapshot, tenants: list[TenantState]) -> dict[str, Any]:
    """Where the fleet was read, what could not be read, the platform (its Deployments, and
    the reading of its components as `ncconsole platform --format json` gives it) and
    `tenants`."""
    platform = snapshot.platform
    reading = snapshot.platform_reading
    return {
        "context": snapshot.context,
        "cluster": snapshot.cluster,
        "repo": snapshot.repo,
        "api_reachable": snapshot.api_reachable,
        "api_error": snapshot.api_error or None,
        # "per-namespace": the cluster-wide list is forbidden, each tenant namespace is read
        "kinds": {k: v.status.value for k, v in sorted(snapshot.kinds.items())},
        "no_access_namespaces": unreadable_namespaces(snapshot),
        "platform": {
            "redis": _deployment(platform.redis),
            "pgbouncer": _deployment(platform.pgbouncer),
            "secret_store_ready": platform.secret_store_ready,
        },
        "repo_problems": list(snapshot.repo_problems),
        "smoke_problem": snapshot.smoke_problem or None,
        "platform_reading": (
            platform_record(reading, [t.name for t in tenants]) if reading is not None else None
        ),
        "tenants": [tenant_record(t) for t in tenants],
    }
