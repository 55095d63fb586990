"""The kinds the fleet watches: one cluster-wide list+watch each, never one per tenant - unless
RBAC forbids the cluster-wide list of pods, Deployments or Events, which are then read per
tenant namespace (kube/watch.py's fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.kube import views
from ncconsole.kube.views import EventView
from ncconsole.kube.watch import WatchSpec
from ncconsole.kube.writes import ESO_API
from ncconsole.settings import Settings

NEXTCLOUD_SELECTOR = "app.kubernetes.io/name=nextcloud"
# Events older than this are not "recent" and are dropped on arrival.
EVENT_MAX_AGE = timedelta(hours=1)

PODS = "pods"
DEPLOYMENTS = "deployments"
APPLICATIONS = "applications"
APPLICATIONSETS = "applicationsets"
EVENTS = "events"
PLATFORM = "platform"
SECRET_STORE = "secretstore"

FLEET_KINDS = (PODS, DEPLOYMENTS, APPLICATIONS, APPLICATIONSETS, EVENTS, PLATFORM, SECRET_STORE)


def is_tenant_namespace(settings: Settings, namespace: str) -> bool:
    return namespace.startswith(settings.namespace_prefix) and (
        namespace != settings.platform_namespace
    )


def fleet_watch_specs(settings: Settings, eso_api: str = ESO_API) -> list[WatchSpec]:
    """Everything FleetState needs, as watch specs; kind names are the constants above.
    `eso_api`: the External Secrets group/version the cluster serves (kube/writes.eso_api)."""
    container = settings.occ.container
    in_tenant_ns = lambda view: is_tenant_namespace(settings, view.namespace)  # noqa: E731
    argo = f"/apis/argoproj.io/v1alpha1/namespaces/{settings.argocd_namespace}"
    store_name = settings.secret.store_name
    if settings.secret.store_kind == "ClusterSecretStore":
        store_path = f"/apis/{eso_api}/clustersecretstores"
    else:
        store_path = f"/apis/{eso_api}/namespaces/{settings.platform_namespace}/secretstores"

    def is_tenant_app(view: Any) -> bool:
        return view.name.startswith(settings.app_prefix) or settings.labels.tenant in view.labels

    def is_recent_tenant_event(view: EventView) -> bool:
        if not is_tenant_namespace(settings, view.namespace):
            return False
        return view.last_seen is None or view.last_seen >= datetime.now(UTC) - EVENT_MAX_AGE

    return [
        WatchSpec(
            PODS,
            "/api/v1/pods",
            lambda obj: views.parse_pod(obj, container),
            label_selector=NEXTCLOUD_SELECTOR,
            accept=in_tenant_ns,
            namespaced_path=lambda ns: f"/api/v1/namespaces/{ns}/pods",
        ),
        WatchSpec(
            DEPLOYMENTS,
            "/apis/apps/v1/deployments",
            lambda obj: views.parse_deployment(obj, container),
            label_selector=NEXTCLOUD_SELECTOR,
            accept=in_tenant_ns,
            namespaced_path=lambda ns: f"/apis/apps/v1/namespaces/{ns}/deployments",
        ),
        WatchSpec(APPLICATIONS, f"{argo}/applications", views.parse_app, accept=is_tenant_app),
        WatchSpec(APPLICATIONSETS, f"{argo}/applicationsets", views.parse_appset),
        WatchSpec(
            EVENTS,
            "/api/v1/events",
            views.parse_event,
            accept=is_recent_tenant_event,
            namespaced_path=lambda ns: f"/api/v1/namespaces/{ns}/events",
        ),
        WatchSpec(
            PLATFORM,
            f"/apis/apps/v1/namespaces/{settings.platform_namespace}/deployments",
            lambda obj: views.parse_deployment(obj, ""),
        ),
        WatchSpec(
            SECRET_STORE,
            store_path,
            views.ready_condition,
            field_selector=f"metadata.name={store_name}",
        ),
    ]
