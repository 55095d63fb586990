"""A fixed, realistic fleet picture at a given moment, shaped like `ncconsole demo`'s scenario:
twelve tenants over waves 0-3, one degraded, one in maintenance, a chart upgrade waiting to be
rolled out past the canary, and one tenant whose Application is missing.

The screenshot script (screenshots/make_screenshots.py) and the snapshot tests render it with a
FixedFleetSource and a frozen clock, so their pictures do not change between runs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ncconsole.snapshot import (
    AppView,
    BucketProbe,
    DeploymentView,
    EventView,
    FleetSnapshot,
    Health,
    KindState,
    KindStatus,
    PlatformState,
    PodView,
    StatusPhpProbe,
    SyncHistoryEntry,
    TenantState,
)

FROZEN_NOW = datetime(2026, 3, 4, 3, 12, 0, tzinfo=UTC)

OLD_REV = "9f1c2ab"
NEW_REV = "4e07d1c"
OLD_IMAGE = "docker.io/library/nextcloud:30.0.6-apache"
NEW_IMAGE = "docker.io/library/nextcloud:30.0.7-apache"

# name, wave, environment
TENANTS: tuple[tuple[str, int, str], ...] = (
    ("canary", 0, "accept"),
    ("acme", 1, "prod"),
    ("bakkerij", 1, "prod"),
    ("gemeente-oost", 1, "prod"),
    ("huisarts", 1, "prod"),
    ("kinderopvang", 2, "prod"),
    ("notaris", 2, "prod"),
    ("sportclub", 2, "prod"),
    ("tandarts", 2, "prod"),
    ("architect", 3, "prod"),
    ("bibliotheek", 3, "prod"),
    ("zorggroep", 3, "prod"),
)


def _pod(tenant: str, index: int, now: datetime, image: str, **changes: object) -> PodView:
    fields: dict = {
        "namespace": f"nc-{tenant}",
        "name": f"nextcloud-{tenant}-7d9f8c6b5-{'xkq2p' if index == 0 else 'm4w8z'}",
        "phase": "Running",
        "ready": True,
        "restarts": 0,
        "created": now - timedelta(days=6, hours=index),
        "node": f"worker-{(len(tenant) + index) % 3 + 1}",
        "image": image,
    }
    fields.update(changes)
    return PodView(**fields)


def repo_tenant(name: str, wave: int, environment: str = "prod", **changes: object) -> TenantState:
    """Tenant `name` as the demo repo lists it, with nothing observed on the cluster unless
    `changes` says so."""
    fields: dict = {
        "name": name,
        "wave": wave,
        "environment": environment,
        "hostname": f"{name}.nextcloud.example.com",
        "bucket": f"nextcloud-{name}",
        "namespace": f"nc-{name}",
        "app_name": f"nc-{name}",
        "in_repo": True,
    }
    fields.update(changes)
    return TenantState(**fields)


def _tenant(name: str, wave: int, environment: str, now: datetime) -> TenantState:
    upgraded = wave == 0
    image = NEW_IMAGE if upgraded else OLD_IMAGE
    revision = NEW_REV if upgraded else OLD_REV
    version = "30.0.7" if upgraded else "30.0.6"
    pods = (_pod(name, 0, now, image), _pod(name, 1, now, image))
    app = AppView(
        name=f"nc-{name}",
        namespace="argocd",
        resource_version="48210",
        labels={"tenant": name, "wave": str(wave)},
        sync_status="Synced" if upgraded else "OutOfSync",
        sync_revision=revision,
        target_revision=NEW_REV,
        health_status="Healthy",
        operation_phase="Succeeded",
        operation_message="successfully synced (all tasks run)",
        operation_started=now - timedelta(days=6, minutes=3),
        operation_finished=now - timedelta(days=6, minutes=2),
        operation_revision=revision,
        reconciled_at=now - timedelta(seconds=40),
        images=(image,),
        history=(
            SyncHistoryEntry(11, "1b2c3d4", now - timedelta(days=20), "ncconsole:oncall"),
            SyncHistoryEntry(12, revision, now - timedelta(days=6), "ncconsole:oncall"),
        ),
    )
    web = StatusPhpProbe(
        checked_at=now - timedelta(seconds=8),
        latency_ms=42.0,
        ok=True,
        http_status=200,
        installed=True,
        maintenance=False,
        needs_db_upgrade=False,
        version=f"{version}.2",
        versionstring=version,
    )
    s3 = BucketProbe(
        checked_at=now - timedelta(seconds=12),
        latency_ms=18.5,
        state="ok",
        object_count=18_400 + 37 * len(name),
        bytes_used=(21 + len(name)) * 1024**3,
    )
    return repo_tenant(
        name,
        wave,
        environment,
        app=app,
        deployment=DeploymentView(f"nc-{name}", f"nextcloud-{name}", 2, 2, 2, 2, image, 4, 4),
        pods=pods,
        web=web,
        s3=s3,
        health=Health.HEALTHY,
    )


def _degraded(tenant: TenantState, now: datetime) -> TenantState:
    crashing = _pod(
        tenant.name, 1, now, OLD_IMAGE, ready=False, restarts=7, reason="CrashLoopBackOff"
    )
    app = replace(
        tenant.app,
        health_status="Degraded",
        health_message="Deployment nextcloud-notaris has 1 unavailable replica",
        conditions=(("SyncError", "Failed sync attempt: one or more objects failed"),),
    )
    event = EventView(
        tenant.namespace,
        "Pod",
        crashing.name,
        "Warning",
        "BackOff",
        "Back-off restarting failed container nextcloud",
        31,
        now - timedelta(seconds=20),
    )
    web = replace(
        tenant.web, ok=False, http_status=500, error="HTTP 500", version="", versionstring=""
    )
    return replace(
        tenant,
        app=app,
        pods=(tenant.pods[0], crashing),
        deployment=replace(tenant.deployment, ready_replicas=1, available_replicas=1),
        events=(event,),
        web=web,
        health=Health.DEGRADED,
        reason="1 pod CrashLoopBackOff",
    )


def demo_snapshot(now: datetime = FROZEN_NOW, version: int = 1) -> FleetSnapshot:
    """The demo fleet as it looks at `now`."""
    tenants = {name: _tenant(name, wave, env, now) for name, wave, env in TENANTS}
    tenants["notaris"] = _degraded(tenants["notaris"], now)
    huisarts = tenants["huisarts"]
    tenants["huisarts"] = replace(
        huisarts,
        web=replace(huisarts.web, maintenance=True),
        health=Health.PROGRESSING,
        reason="maintenance mode on",
    )
    bieb = tenants["bibliotheek"]
    tenants["bibliotheek"] = replace(
        bieb,
        s3=replace(
            bieb.s3,
            state="missing",
            object_count=None,
            bytes_used=None,
            error="bucket nextcloud-bibliotheek does not exist",
        ),
        health=Health.DEGRADED,
        reason="S3 bucket missing",
    )
    tenants["zorggroep"] = repo_tenant(
        "zorggroep",
        3,
        drift=("not deployed",),
        health=Health.MISSING,
        reason="no Application nc-zorggroep",
    )
    kinds = {
        kind: KindState(KindStatus.LIVE, updated_at=now - timedelta(seconds=1))
        for kind in ("pods", "deployments", "applications", "applicationsets", "events")
    }
    return FleetSnapshot(
        version=version,
        taken_at=now - timedelta(seconds=1),
        context="demo",
        cluster="ncconsole-sim",
        repo="~/src/nextcloud-platform",
        tenants=tuple(tenants.values()),
        kinds=kinds,
        platform=PlatformState(
            redis=DeploymentView("nc-platform", "redis", 1, 1, 1, 1, "redis:7.4"),
            pgbouncer=DeploymentView("nc-platform", "pgbouncer", 2, 2, 2, 2, "pgbouncer:1.23"),
            secret_store_ready=True,
            secret_store_message="store validated",
        ),
        last_contact=now - timedelta(seconds=1),
        complete=True,
    )
