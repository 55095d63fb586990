"""How Argo CD describes an Application's state: the `status.sync` block, the managed
resources list, and the health of a Deployment as its built-in health check reads it."""

from __future__ import annotations

from typing import Any

from ncconsole.sim.platform_repo.files import CHART_REPO_URL, GIT_REPO_URL

Obj = dict[str, Any]


def sync_block(status: str, revision: str, chart: str, namespace: str) -> Obj:
    return {
        "status": status,
        "revision": revision,
        "revisions": [chart, revision],
        "comparedTo": {
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "sources": [
                {"repoURL": CHART_REPO_URL, "chart": "nextcloud", "targetRevision": chart},
                {"repoURL": GIT_REPO_URL, "targetRevision": "HEAD", "ref": "values"},
            ],
        },
    }


def managed_resources(namespace: str, sync: str) -> list[Obj]:
    """`status.resources`: what the chart deploys (no per-resource health since Argo CD 3.0)."""
    return [
        {"version": "v1", "kind": "Service", "namespace": namespace, "name": "nextcloud",
         "status": sync},
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": namespace,
         "name": "nextcloud", "status": sync},
    ]  # fmt: skip


def deployment_health(deployment: Obj | None) -> tuple[str, str]:
    """(health status, message) of a Deployment, following Argo CD's built-in check."""
    if deployment is None:
        return "Missing", ""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    name = deployment["metadata"]["name"]
    want = int(spec.get("replicas", 1))
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return "Degraded", f'Deployment "{name}" exceeded its progress deadline'
    if int(status.get("observedGeneration") or 0) < int(deployment["metadata"]["generation"]):
        return "Progressing", "Waiting for rollout to finish: observed deployment generation " \
            "less than desired generation"  # fmt: skip
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if updated < want:
        return "Progressing", (
            f"Waiting for rollout to finish: {updated} out of {want} new replicas have been "
            "updated..."
        )
    if total > updated:
        return "Progressing", (
            f"Waiting for rollout to finish: {total - updated} old replicas are pending "
            "termination..."
        )
    if available < updated:
        return "Progressing", (
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are "
            "available..."
        )
    return "Healthy", ""
