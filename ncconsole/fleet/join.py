"""Pure functions that turn one tenant's desired and observed parts into a TenantState."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ncconsole.fleet import watches as kinds
from ncconsole.fleet.health import assess, main_deployment
from ncconsole.fleet.model import KindState, PlatformState, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.kube.views import AppView, DeploymentView, EventView, PodView
from ncconsole.kube.watch import KindStatus
from ncconsole.platform.reading import NOT_READ, TenantPlatform
from ncconsole.probes.results import BucketProbe, StatusPhpProbe
from ncconsole.settings import Settings

# Recent events kept per tenant, newest first.
EVENTS_PER_TENANT = 20
# Stands in for an unknown time: sorts as the oldest.
EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DesiredTenant:
    name: str
    wave: int
    environment: str
    hostname: str
    bucket: str


@dataclass(frozen=True, slots=True)
class TenantInputs:
    desired: DesiredTenant | None
    app: AppView | None
    pods: tuple[PodView, ...]
    deployments: tuple[DeploymentView, ...]
    events: tuple[EventView, ...]
    web: StatusPhpProbe | None
    s3: BucketProbe | None
    smoke: SmokeOutcome | None = None
    # Kinds (pods, deployments, events) RBAC does not let the console read in its namespace.
    denied: tuple[str, ...] = ()
    platform: TenantPlatform = NOT_READ


def _label_wave(app: AppView | None, settings: Settings) -> int | None:
    value = app.labels.get(settings.labels.wave) if app else None
    return int(value) if value is not None and value.isdigit() else None


def drift_of(
    desired: DesiredTenant | None,
    app: AppView | None,
    settings: Settings,
    kind_states: Mapping[str, KindState],
    repo_readable: bool,
) -> tuple[str, ...]:
    apps_known = kind_states[kinds.APPLICATIONS].status == KindStatus.LIVE
    if desired is None:
        return ("orphan",) if repo_readable else ()
    if app is None:
        return ("not deployed",) if apps_known else ()
    label = app.labels.get(settings.labels.wave)
    if label is None:
        return (f"wave label missing (file wave {desired.wave})",)
    if label != str(desired.wave):
        return (f"wave label {label} differs from file wave {desired.wave}",)
    return ()


def build_tenant(
    name: str,
    parts: TenantInputs,
    settings: Settings,
    kind_states: Mapping[str, KindState],
    repo_readable: bool,
) -> TenantState:
    desired, app = parts.desired, parts.app
    deployment = main_deployment(parts.deployments)
    pods = tuple(sorted(parts.pods, key=lambda p: p.name))
    events = tuple(
        sorted(parts.events, key=lambda e: e.last_seen or EPOCH, reverse=True)[:EVENTS_PER_TENANT]
    )
    drift = drift_of(desired, app, settings, kind_states, repo_readable)
    health, reason = assess(
        app=app,
        deployment=deployment,
        pods=pods,
        web=parts.web,
        s3=parts.s3,
        drift=drift,
        kind_states=kind_states,
        denied=parts.denied,
        namespace=settings.namespace_for(name),
        platform=parts.platform,
    )
    return TenantState(
        name=name,
        wave=desired.wave if desired else _label_wave(app, settings),
        environment=desired.environment if desired else "",
        hostname=desired.hostname if desired else "",
        bucket=desired.bucket if desired else "",
        namespace=settings.namespace_for(name),
        app_name=app.name if app else settings.app_name_for(name),
        in_repo=desired is not None,
        app=app,
        deployment=deployment,
        pods=pods,
        events=events,
        web=parts.web,
        s3=parts.s3,
        drift=drift,
        health=health,
        reason=reason,
        smoke=parts.smoke,
        platform=parts.platform,
    )


def platform_state(
    platform: Mapping[str, Mapping[str, Any]],
    stores: Mapping[str, Mapping[str, Any]],
    kind_states: Mapping[str, KindState],
) -> PlatformState:
    deployments = [d for group in platform.values() for d in group.values()]

    def named(word: str) -> DeploymentView | None:
        matches = [d for d in deployments if word in d.name]
        return min(matches, key=lambda d: len(d.name), default=None)

    store = next((s for group in stores.values() for s in group.values()), None)
    store_kind = kind_states[kinds.SECRET_STORE]
    if store is not None:
        ready, message = store
    elif store_kind.status == KindStatus.LIVE:
        ready, message = False, "not found"
    else:
        ready, message = None, store_kind.message or store_kind.status.value
    return PlatformState(
        redis=named("redis"),
        pgbouncer=named("pgbouncer"),
        secret_store_ready=ready,
        secret_store_message=message,
    )
