"""What the Nextcloud Helm chart (and Argo CD's CreateNamespace) render for one tenant: the
objects both the startup seed and a simulated sync put into the cluster."""

from __future__ import annotations

import uuid
from typing import Any

from ncconsole.sim.platform_repo.repo import DesiredVersion
from ncconsole.sim.scenario import TenantSpec

Obj = dict[str, Any]
NEXTCLOUD_REPO = "nextcloud"


def image_of(version: DesiredVersion) -> str:
    return f"{NEXTCLOUD_REPO}:{version.image_tag}"


NC_SELECTOR = {
    "app.kubernetes.io/name": "nextcloud",
    "app.kubernetes.io/instance": "nextcloud",
    "app.kubernetes.io/component": "app",
}


def nextcloud_deployment(tenant: TenantSpec, version: DesiredVersion) -> Obj:
    labels = {
        **NC_SELECTOR,
        "helm.sh/chart": f"nextcloud-{version.chart_version}",
        "app.kubernetes.io/version": version.image_tag.split("-")[0],
        "app.kubernetes.io/managed-by": "Helm",
        "argocd.argoproj.io/instance": tenant.app_name,
    }
    container = {
        "name": "nextcloud",
        "image": image_of(version),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
        "env": [
            {"name": "NEXTCLOUD_TRUSTED_DOMAINS", "value": tenant.hostname},
            {"name": "POSTGRES_HOST", "value": "pgbouncer.nc-platform.svc"},
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "nextcloud-secrets", "key": "db-password"}},
            },
        ],
        "readinessProbe": {
            "httpGet": {
                "path": "/status.php",
                "port": 80,
                "httpHeaders": [{"name": "Host", "value": tenant.hostname}],
            },
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
        },
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
    }
    return {
        "metadata": {"name": "nextcloud", "namespace": tenant.namespace, "labels": labels},
        "spec": {
            "replicas": tenant.replicas,
            "selector": {"matchLabels": dict(NC_SELECTOR)},
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {
                    "labels": dict(NC_SELECTOR),
                    "annotations": {"kubectl.kubernetes.io/default-container": "nextcloud"},
                },
                "spec": {"containers": [container], "securityContext": {"fsGroup": 33}},
            },
        },
    }


def namespace_manifest(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def service_manifest(
    namespace: str, name: str, selector: dict[str, str], port: int, target: int
) -> Obj:
    digest = uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.{namespace}").bytes
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": dict(selector)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": f"10.43.{digest[0]}.{digest[1] % 254 + 1}",
            "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}],
        },
        "status": {"loadBalancer": {}},
    }
