"""Kubernetes objects for one simulated tenant, as a Nextcloud chart + Argo CD would make them."""

from __future__ import annotations

from typing import Any

from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer

NC_LABELS = {"app.kubernetes.io/name": "nextcloud", "app.kubernetes.io/component": "app"}


CHART_REPO = "https://nextcloud.github.io/helm/"
VALUES_REPO = "https://git.example.com/platform/nextcloud-platform.git"
VALUES_COMMIT = "ab12cd34" * 5


def app(tenant: str, wave: int | str, health: str = "Healthy", sync: str = "Synced") -> dict:
    """The tenant's Application as the platform's multi-source template makes it (the chart
    plus the values repo as `ref: values`), with the status Argo CD writes for it: only
    `sync.revisions` (argo-cd controller/state.go)."""
    return {
        "metadata": {
            "name": f"nc-{tenant}",
            "namespace": "argocd",
            "labels": {"tenant": tenant, "wave": str(wave)},
        },
        "spec": {
            "project": "nextcloud-platform",
            "sources": [
                {"repoURL": CHART_REPO, "chart": "nextcloud", "targetRevision": "6.6.4"},
                {"repoURL": VALUES_REPO, "targetRevision": "HEAD", "ref": "values"},
            ],
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": f"nc-{tenant}",
            },
        },
        "status": {
            "sync": {"status": sync, "revisions": ["6.6.4", VALUES_COMMIT]},
            "health": {"status": health},
        },
    }


def pod(tenant: str, name: str, *, ready: bool = True, waiting: str = "") -> dict:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": name, "namespace": f"nc-{tenant}", "labels": dict(NC_LABELS)},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "nextcloud", "image": "nextcloud:30.0.6"}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {"name": "nextcloud", "restartCount": 3 if waiting else 0, "state": state}
            ],
        },
    }


def deployment(tenant: str, replicas: int = 1, ready: int = 1) -> dict:
    return {
        "metadata": {"name": "nextcloud", "namespace": f"nc-{tenant}", "labels": dict(NC_LABELS)},
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30.0.6"}]}
            },
        },
        "status": {"readyReplicas": ready, "updatedReplicas": replicas},
    }


def add_tenant(sim: SimServer, tenant: str, wave: int | str, *, with_app: bool = True) -> None:
    """Namespace, Deployment, one ready pod and (optionally) the Application."""
    store = sim.store
    sim.call(store.create, NAMESPACES, {"metadata": {"name": f"nc-{tenant}"}})
    sim.call(store.create, DEPLOYMENTS, deployment(tenant))
    sim.call(store.create, PODS, pod(tenant, f"nextcloud-{tenant}-0"))
    if with_app:
        sim.call(store.create, APPLICATIONS, app(tenant, wave))


def ensure_namespace(sim: SimServer, name: str) -> None:
    if sim.call(store_try_get, sim, name) is None:
        sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": name}})


def store_try_get(sim: SimServer, name: str) -> Any:
    return sim.store.try_get(NAMESPACES, None, name)
