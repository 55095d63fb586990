"""The simulated cluster's objects at startup, built from a scenario: a platform that has been
running for a while. Tenants' pods are already Ready (crash-looping for degraded tenants),
Applications Synced to the first commit (OutOfSync where a pending commit changes them), and
the shared platform, Argo CD and External Secrets objects are in place."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import yaml

from ncconsole.sim.apiserver.resources import (
    APPLICATIONS,
    APPLICATIONSETS,
    APPPROJECTS,
    CERTIFICATES,
    CLUSTERSECRETSTORES,
    DEPLOYMENTS,
    NAMESPACES,
    PODS,
    SECRETS,
    SERVICES,
)
from ncconsole.sim.apiserver.store import Store, now_iso
from ncconsole.sim.controllers.argocd_status import (
    app_sources as app_sources_of,
)
from ncconsole.sim.controllers.argocd_status import (
    compared_revisions,
    deployment_health,
    history_entry,
    is_multi_source,
    managed_resources,
    sync_block,
    sync_result,
)
from ncconsole.sim.controllers.deployments import deployment_status, new_pod, template_hash
from ncconsole.sim.controllers.kubelet import crashed_status, node_for, running_status
from ncconsole.sim.controllers.state import APPLICATIONSET, ARGOCD_NAMESPACE, PLATFORM_NAMESPACE
from ncconsole.sim.nextcloud.manifests import (
    NC_SELECTOR,
    image_of,
    namespace_manifest,
    nextcloud_deployment,
    service_manifest,
)
from ncconsole.sim.platform_repo.files import (
    APPPROJECT,
    app_sources,
    applicationset,
    static_files,
)
from ncconsole.sim.platform_repo.repo import DesiredVersion
from ncconsole.sim.platform_services import (
    COMPONENTS,
    MONITORING_NAMESPACE,
    PlatformServers,
    credential_secrets,
    tenant_certificate,
)
from ncconsole.sim.s3 import S3Credentials
from ncconsole.sim.scenario import Scenario, TenantSpec

Obj = dict[str, Any]


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def platform_deployment(name: str, image: str, replicas: int, port: int) -> Obj:
    selector = {"app.kubernetes.io/name": name}
    return {
        "metadata": {
            "name": name,
            "namespace": PLATFORM_NAMESPACE,
            "labels": {**selector, "app.kubernetes.io/part-of": "nextcloud-platform"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "containers": [
                        {"name": name, "image": image, "ports": [{"containerPort": port}]}
                    ]
                },
            },
        },
    }


def create_running_deployment(
    store: Store, deployment: Obj, *, crashing: bool = False, restarts: int = 0
) -> Obj:
    """Store `deployment` with its pods already running (and its status saying so)."""
    stamp = now_iso()
    pod_hash = template_hash(deployment["spec"]["template"])
    pods = []
    for i in range(int(deployment["spec"]["replicas"])):
        pod = new_pod({**deployment, "metadata": {**deployment["metadata"], "uid": ""}}, pod_hash)
        pod["spec"]["nodeName"] = ""
        status = running_status(pod, stamp, ready=not crashing)
        if crashing:
            status = crashed_status(status, pod["metadata"]["name"], 10, stamp)
            for cs in status["containerStatuses"]:
                cs["restartCount"] = restarts + i
        pod["status"] = status
        pods.append(pod)
    as_stored = {**deployment, "metadata": {**deployment["metadata"], "generation": 1}}
    deployment["status"] = deployment_status(as_stored, pods, stamp)
    created = store.create(DEPLOYMENTS, deployment)
    for pod in pods:
        pod["metadata"]["ownerReferences"][0]["uid"] = _rs_uid(created, pod_hash)
        pod["spec"]["nodeName"] = node_for(pod["metadata"]["name"])
        store.create(PODS, pod)
    return created


def _rs_uid(deployment: Obj, pod_hash: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{deployment['metadata']['uid']}/{pod_hash}"))


def tenant_secret(tenant: TenantSpec, s3: S3Credentials) -> Obj:
    """`nextcloud-secrets` with the keys of DOMAIN.md section 3."""
    values = {
        "nextcloud-username": "admin",
        "nextcloud-password": secrets.token_urlsafe(18),
        "s3-access-key": s3.access_key,
        "s3-secret-key": s3.secret_key,
        "db-password": secrets.token_urlsafe(24),
        "redis-password": secrets.token_urlsafe(24),
        "nextcloud-secret": secrets.token_urlsafe(36),
    }
    return {
        "metadata": {
            "name": "nextcloud-secrets",
            "namespace": tenant.namespace,
            "labels": {"app.kubernetes.io/name": "nextcloud", "tenant": tenant.name},
        },
        "type": "Opaque",
        "data": {k: _b64(v) for k, v in values.items()},
    }


def application(
    tenant: TenantSpec,
    appset_uid: str,
    head: str,
    deployed_revision: str,
    deployed: DesiredVersion | None,
    desired: DesiredVersion,
    health: str,
    shape: str = "multi",
) -> Obj:
    """The Application of `tenant` as the ApplicationSet generates it (multi- or
    single-source, `shape`); `deployed` None means it was never synced (OutOfSync and
    Missing, no operationState or history)."""
    stamp = now_iso()
    initiated = {"username": "admin"}
    app: Obj = {
        "metadata": {
            "name": tenant.app_name,
            "namespace": ARGOCD_NAMESPACE,
            "labels": {"tenant": tenant.name, "wave": str(tenant.wave)},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "ApplicationSet",
                    "name": APPLICATIONSET,
                    "uid": appset_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "project": "nextcloud-platform",
            **app_sources(tenant.name, tenant.environment, desired.chart_version, shape),
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": tenant.namespace,
            },
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
        },
    }
    sync = "Synced" if deployed == desired else "OutOfSync"
    multi = is_multi_source(app)
    status: Obj = {
        "sync": sync_block(app, sync, compared_revisions(app, head)),
        "health": {"status": health},
        "summary": {"images": [image_of(deployed)]} if deployed is not None else {},
        "resources": managed_resources(tenant.namespace, sync),
        "sourceTypes": ["Helm", "Helm"] if multi else ["Helm"],
        "controllerNamespace": ARGOCD_NAMESPACE,
        "reconciledAt": stamp,
    }
    app["status"] = status
    if deployed is None:
        return app
    sources = app_sources_of(app)
    if multi:
        sources[0] = {**sources[0], "targetRevision": deployed.chart_version}
        revisions = [deployed.chart_version, deployed_revision]
        requested: Obj = {"revisions": revisions}
    else:
        revisions = [deployed_revision]
        requested = {"revision": deployed_revision}
    status["operationState"] = {
        "operation": {"initiatedBy": initiated, "sync": requested},
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "startedAt": stamp,
        "finishedAt": stamp,
        "syncResult": sync_result(multi, revisions, sources),
    }
    status["history"] = [history_entry(multi, revisions, sources, 0, stamp, stamp, initiated)]
    return app


def seed_platform(
    store: Store, scenario: Scenario, head_chart: str, servers: PlatformServers | None = None
) -> str:
    """Namespaces and objects that are not per tenant; returns the ApplicationSet's uid.
    `servers`: real servers standing behind the platform components' pods (their Secrets
    then hold the real credentials)."""
    for name in ("default", "kube-system", ARGOCD_NAMESPACE, PLATFORM_NAMESPACE,
                 MONITORING_NAMESPACE):  # fmt: skip
        if store.try_get(NAMESPACES, None, name) is None:
            store.create(NAMESPACES, namespace_manifest(name))
    for secret in credential_secrets(servers or PlatformServers()):
        store.create(SECRETS, secret)
    for name, image, replicas in (
        ("redis", "redis:7.4-alpine", 1),
        ("pgbouncer", "bitnami/pgbouncer:1.23.1", 2),
        ("alertmanager", "quay.io/prometheus/alertmanager:v0.28.1", 1),
    ):
        namespace, port, service_port = COMPONENTS[name]
        deployment = platform_deployment(name, image, replicas, port)
        deployment["metadata"]["namespace"] = namespace
        create_running_deployment(store, deployment)
        selector = {"app.kubernetes.io/name": name}
        store.create(SERVICES, service_manifest(namespace, name, selector, service_port, port))
    for name, image in (
        ("argocd-server", "quay.io/argoproj/argocd:v3.1.8"),
        ("argocd-repo-server", "quay.io/argoproj/argocd:v3.1.8"),
        ("argocd-applicationset-controller", "quay.io/argoproj/argocd:v3.1.8"),
    ):
        deployment = platform_deployment(name, image, 1, 8080)
        deployment["metadata"]["namespace"] = ARGOCD_NAMESPACE
        create_running_deployment(store, deployment)
    appset = yaml.safe_load(applicationset(scenario, head_chart))
    created = store.create(APPLICATIONSETS, appset)
    store.create(APPPROJECTS, yaml.safe_load(APPPROJECT))
    secret_store = yaml.safe_load(
        static_files()["platform/externalsecrets/clustersecretstore.yaml"]
    )
    secret_store["status"] = {
        "capabilities": "ReadWrite",
        "conditions": [
            {
                "type": "Ready", "status": "True", "reason": "Valid",
                "message": "store validated", "lastTransitionTime": now_iso(),
            }
        ],
    }  # fmt: skip
    store.create(CLUSTERSECRETSTORES, secret_store)
    return created["metadata"]["uid"]


def seed_tenant(
    store: Store,
    tenant: TenantSpec,
    *,
    appset_uid: str,
    head: str,
    deployed_revision: str,
    deployed: DesiredVersion,
    desired: DesiredVersion,
    s3: S3Credentials,
    shape: str = "multi",
) -> None:
    store.create(NAMESPACES, namespace_manifest(tenant.namespace, {"tenant": tenant.name}))
    store.create(SECRETS, tenant_secret(tenant, s3))
    store.create(
        SERVICES, service_manifest(tenant.namespace, "nextcloud", dict(NC_SELECTOR), 8080, 80)
    )
    store.create(CERTIFICATES, tenant_certificate(tenant))
    deployment = nextcloud_deployment(tenant, deployed)
    degraded = tenant.faults.degraded or tenant.faults.stale_crashloop
    stored = create_running_deployment(store, deployment, crashing=degraded, restarts=5)
    health = deployment_health(stored)[0] if tenant.replicas else "Healthy"
    store.create(
        APPLICATIONS,
        application(tenant, appset_uid, head, deployed_revision, deployed, desired, health, shape),
    )
