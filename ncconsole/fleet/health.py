"""One health word and a short reason per tenant, from everything observed about it.

Each source (Argo CD, pods, status.php, bucket) gives findings; the worst health wins and the
reasons at that level become the tenant's reason, e.g. "2 pods CrashLoopBackOff".
"""

from __future__ import annotations

from collections.abc import Sequence

from ncconsole.fleet.model import (
    AppView,
    BucketProbe,
    DeploymentView,
    Health,
    PodView,
    StatusPhpProbe,
)

# Order of Health members is worst first; index = severity rank.
_RANK = {health: rank for rank, health in enumerate(Health)}
# Waiting/terminated reasons that mean the pod will not come up by itself.
BROKEN_POD_REASONS = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "OOMKilled",
    "Error",
    "Evicted",
}
S3_PROBLEMS = {
    "missing": "bucket missing",
    "denied": "bucket access denied",
    "timeout": "S3 timeout",
    "unreachable": "S3 unreachable",
    "error": "S3 error",
}

Finding = tuple[Health, str]


def app_findings(app: AppView) -> list[Finding]:
    found: list[Finding] = []
    if app.operation_phase in ("Failed", "Error"):
        message = f": {app.operation_message}" if app.operation_message else ""
        found.append((Health.FAILED, f"sync {app.operation_phase}{message}"))
    health = app.health_status
    if health == "Degraded":
        message = f": {app.health_message}" if app.health_message else ""
        found.append((Health.DEGRADED, f"Argo CD Degraded{message}"))
    elif health == "Missing":
        found.append((Health.MISSING, "Argo CD: resources missing"))
    elif health in ("Progressing", "Suspended"):
        found.append((Health.PROGRESSING, f"Argo CD {health}"))
    elif health != "Healthy":
        found.append((Health.UNKNOWN, "Argo CD health unknown"))
    return found


def pod_findings(pods: Sequence[PodView], deployment: DeploymentView | None) -> list[Finding]:
    running = [p for p in pods if p.phase not in ("Succeeded",) and not p.deleting]
    broken: dict[str, int] = {}
    for pod in running:
        if pod.reason in BROKEN_POD_REASONS:
            broken[pod.reason] = broken.get(pod.reason, 0) + 1
    found: list[Finding] = [
        (Health.DEGRADED, f"{count} pod{'s' if count > 1 else ''} {reason}")
        for reason, count in sorted(broken.items())
    ]
    if deployment is not None and deployment.replicas == 0:
        found.append((Health.DEGRADED, "scaled to 0"))
        return found
    desired = deployment.replicas if deployment is not None else len(running)
    ready = sum(1 for p in running if p.ready)
    if ready < desired and not broken:
        found.append((Health.PROGRESSING, f"{ready}/{desired} pods ready"))
    return found


def web_findings(web: StatusPhpProbe) -> list[Finding]:
    if web.ok:
        return []
    if web.maintenance:
        return [(Health.DEGRADED, "maintenance mode")]
    return [(Health.DEGRADED, f"status.php: {web.error or 'not healthy'}")]


def s3_findings(s3: BucketProbe) -> list[Finding]:
    problem = S3_PROBLEMS.get(s3.state)
    return [(Health.DEGRADED, problem)] if problem else []


def combine(findings: Sequence[Finding]) -> Finding:
    """The worst health among findings and its reasons (at most two, joined)."""
    if not findings:
        return Health.HEALTHY, ""
    worst = min((health for health, _ in findings), key=_RANK.__getitem__)
    reasons = [reason for health, reason in findings if health == worst]
    text = "; ".join(reasons[:2])
    if len(reasons) > 2:
        text += f" (+{len(reasons) - 2} more)"
    return worst, text


def is_unhealthy(health: Health) -> bool:
    return health is not Health.HEALTHY
