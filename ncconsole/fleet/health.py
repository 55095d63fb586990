"""Every judgement about one tenant, in one place: the console, `ncconsole status`, the smoke
checks and the promotion gates all ask here, so they cannot give different answers.

- which Deployment is the Nextcloud app, which pods count, how many are ready, which are broken;
- whether a sync is busy, whether the Application is settled at a revision, whether a rollout
  has settled (pods replaced and Ready);
- the health word and its short reason: each source (Argo CD, pods, status.php, bucket, and the
  shared platform: PgBouncer, alerts, certificates) gives findings, the worst health wins and
  the reasons at that level become the tenant's reason, the most concrete first, e.g.
  "CrashLoopBackOff ×2 (46 restarts)"; maintenance mode is its own state, planned work rather
  than a failure;
- how old the tenant's outside-in data is.

Pure functions over the views in fleet/model.py; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ncconsole.fleet import watches as kinds
from ncconsole.fleet.model import Health, KindState, TenantState
from ncconsole.kube import revisions
from ncconsole.kube.views import AppView, DeploymentView, PodView
from ncconsole.kube.watch import KindStatus
from ncconsole.platform.model import Verdict
from ncconsole.platform.reading import TenantPlatform
from ncconsole.probes.results import BucketProbe, StatusPhpProbe

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


# -- the Nextcloud Deployment and its pods ----------------------------------------------------


def main_deployment(deployments: Sequence[DeploymentView]) -> DeploymentView | None:
    """The Nextcloud app Deployment among the chart's (metrics and cron ones aside)."""
    candidates = [d for d in deployments if not any(word in d.name for word in ("metrics", "cron"))]
    return min(candidates or deployments, key=lambda d: (len(d.name), d.name), default=None)


def present_pods(pods: Sequence[PodView]) -> list[PodView]:
    """The pods that are meant to run (finished Job-like pods aside), terminating ones included."""
    return [pod for pod in pods if pod.phase != "Succeeded"]


def live_pods(pods: Sequence[PodView]) -> list[PodView]:
    """The pods that count for "ready": present and not terminating. During a rollout the
    old pod being deleted no longer counts, the surge pod does."""
    return [pod for pod in present_pods(pods) if not pod.deleting]


def pods_ready(pods: Sequence[PodView], deployment: DeploymentView | None) -> tuple[int, int]:
    """(ready, desired): Ready live pods, against the Deployment's replicas when it is known,
    else against the live pods. The one count behind the PODS column, `status --format json`,
    the "1/2 pods ready" reason and the smoke checks."""
    live = live_pods(pods)
    desired = deployment.replicas if deployment is not None else len(live)
    return sum(1 for pod in live if pod.ready), desired


def broken_reason(pod: PodView) -> str:
    """Why the pod will not come up by itself (e.g. CrashLoopBackOff), or ""."""
    return pod.reason if pod.reason in BROKEN_POD_REASONS else ""


def broken_pods(pods: Sequence[PodView]) -> list[PodView]:
    """Live pods in a state they do not leave by themselves."""
    return [pod for pod in live_pods(pods) if broken_reason(pod)]


def unready_pods(pods: Sequence[PodView]) -> list[PodView]:
    """Live pods that are broken or simply not Ready (yet): what a smoke check fails on."""
    return [pod for pod in live_pods(pods) if broken_reason(pod) or not pod.ready]


def deployment_rolled_out(deployment: DeploymentView) -> bool:
    """The Deployment controller has seen the latest spec and every replica is new and Ready."""
    return (
        deployment.observed_generation >= deployment.generation
        and deployment.updated_replicas == deployment.replicas == deployment.ready_replicas
    )


# -- Argo CD ------------------------------------------------------------------------------------


def sync_busy(app: AppView | None) -> str:
    """Why a sync is in progress ("" when none is): an operation requested and not yet picked
    up, or one Running/Terminating. A new sync must not be requested then, and a wave with
    such a tenant may not be promoted."""
    if app is None:
        return ""
    if app.operation_requested:
        by = f" (by {app.operation_initiator})" if app.operation_initiator else ""
        return f"a sync operation is requested{by}"
    if app.operation_phase in ("Running", "Terminating"):
        return f"a sync operation is {app.operation_phase}"
    return ""


def at_revision(app: AppView | None, revision: str) -> bool:
    """At the revision key `revision` (kube/revisions.py; False when none is known).

    When `revision` is what Argo CD compares the Application with, that means Synced - for a
    multi-source Application both the chart version and the values commit are `revision`'s.
    When it is not (a wave pinned to an older commit with `--revision`), Argo CD shows
    OutOfSync whatever happens; then it means the last sync Succeeded at `revision`."""
    if app is None or not revision or app.comparison_error:
        return False
    if revisions.matches(revision, app.sync_revision):
        return app.sync_status == "Synced"
    return app.operation_phase == "Succeeded" and revisions.matches(
        revision, app.operation_revision
    )


def deployed_revision(app: AppView | None) -> str:
    """The revision key the Application last synced to: its newest history entry's (Argo CD
    appends one per successful sync), else the last sync result's. What runs, as opposed to
    `sync_revision`, what Git asks for: the two differ while the Application is OutOfSync."""
    if app is None:
        return ""
    if app.history:
        return max(app.history, key=lambda entry: entry.id).revision
    return app.operation_revision if app.operation_phase == "Succeeded" else ""


def autosync_undoes(app: AppView | None, revision: str) -> str:
    """Why syncing `app` to `revision` would not last ("" when it would): with auto-sync on
    (`syncPolicy.automated`) Argo CD syncs an OutOfSync Application straight back to what Git
    asks for (argo-cd controller/appcontroller.go autoSync). Syncing to that very revision
    ("" = the Application's own target) is what auto-sync does anyway."""
    if app is None or not app.automated:
        return ""
    if not revision or revisions.matches(revision, app.sync_revision):
        return ""
    return (
        f"{app.name} has auto-sync on (syncPolicy.automated): Argo CD would sync it straight "
        f"back to {revisions.short(app.sync_revision)}"
    )


def app_settled(app: AppView | None, revision: str) -> bool:
    """Synced and Healthy at `revision`, nothing running: nothing left to promote."""
    return (
        app is not None
        and at_revision(app, revision)
        and app.health_status == "Healthy"
        and not sync_busy(app)
    )


def rollout_settled(tenant: TenantState | None) -> bool:
    """The rollout is over as the fleet sees it: the Application Healthy with no sync busy,
    the Deployment rolled out and exactly its replicas present, all Ready, none terminating.
    Smoke checks wait for this, so they test what now runs."""
    if tenant is None or tenant.app is None or tenant.deployment is None:
        return False
    deployment = tenant.deployment
    present = present_pods(tenant.pods)
    return (
        tenant.app.health_status == "Healthy"
        and not sync_busy(tenant.app)
        and deployment_rolled_out(deployment)
        and len(present) == deployment.replicas
        and all(pod.ready and not pod.deleting for pod in present)
    )


# -- the health word and its reason -------------------------------------------------------------


def clip(message: str, limit: int = 200) -> str:
    """A condition message fit for one line: the first line, at most `limit` characters
    (a ComparisonError can quote whole manifests)."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def app_findings(app: AppView) -> list[Finding]:
    found: list[Finding] = []
    if app.comparison_error:  # health may still say Healthy (argoproj/argo-cd#22124)
        found.append((Health.FAILED, f"Argo CD ComparisonError: {clip(app.comparison_error)}"))
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
    broken: dict[str, list[PodView]] = {}
    for pod in broken_pods(pods):
        broken.setdefault(pod.reason, []).append(pod)
    found: list[Finding] = []
    for reason, group in sorted(broken.items()):
        # The state first (a cut cell still says it), then how many pods and restarts.
        restarts = sum(pod.restarts for pod in group)
        times = f" ×{len(group)}" if len(group) > 1 else ""
        counted = f" ({restarts} restart{'s' if restarts != 1 else ''})" if restarts else ""
        found.append((Health.DEGRADED, f"{reason}{times}{counted}"))
    if deployment is not None and deployment.replicas == 0:
        found.append((Health.DEGRADED, "scaled to 0"))
        return found
    ready, desired = pods_ready(pods, deployment)
    if ready < desired and not broken:
        found.append((Health.PROGRESSING, f"{ready}/{desired} pods ready"))
    return found


def web_findings(web: StatusPhpProbe) -> list[Finding]:
    if web.ok:
        return []
    if web.maintenance:
        return [(Health.MAINTENANCE, "maintenance on")]
    return [(Health.DEGRADED, f"status.php: {web.error or 'not healthy'}")]


def s3_findings(s3: BucketProbe) -> list[Finding]:
    problem = S3_PROBLEMS.get(s3.state)
    return [(Health.DEGRADED, problem)] if problem else []


# What the platform's verdict about a tenant does to its health word: a problem (clients
# queued at PgBouncer, a critical alert firing, a certificate expired or not Ready) hurts it
# now; a warning (an alert of severity warning, a certificate expiring soon) is told in the
# reason of an otherwise healthy tenant without changing its word.
PLATFORM_HEALTH = {Verdict.PROBLEM: Health.DEGRADED, Verdict.WARNING: Health.HEALTHY}


def platform_findings(platform: TenantPlatform) -> list[Finding]:
    """The shared platform's findings about the tenant (platform/reading.py words), e.g.
    "waiting for a PgBouncer connection (3 waiting)"."""
    return [
        (PLATFORM_HEALTH[verdict], text)
        for verdict, text in platform.findings
        if verdict in PLATFORM_HEALTH
    ]


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


def assess(
    *,
    app: AppView | None,
    deployment: DeploymentView | None,
    pods: Sequence[PodView],
    web: StatusPhpProbe | None,
    s3: BucketProbe | None,
    drift: Sequence[str],
    kind_states: Mapping[str, KindState],
    denied: Sequence[str] = (),
    namespace: str = "",
    platform: TenantPlatform | None = None,
) -> Finding:
    """The tenant's health word and reason from everything observed about it. Nothing
    observed is "unknown" ("loading" while the first lists are in flight), never healthy;
    neither is a tenant whose pods or Deployment RBAC does not let the console read
    ("no access to nc-x: may not list pods") - an empty list there proves nothing.
    The platform's findings come first: a tenant waiting for a PgBouncer connection names
    that cause before the crash loop it causes."""
    findings: list[Finding] = []
    if "not deployed" in drift:
        findings.append((Health.MISSING, "not deployed"))
    blind = [kind for kind in (kinds.PODS, kinds.DEPLOYMENTS) if kind in denied]
    if blind:
        where = namespace or "its namespace"
        findings.append(
            (Health.UNKNOWN, f"no access to {where}: may not list {' or '.join(blind)}")
        )
    # The most concrete sources first: their reasons lead (the REASON column shows the start).
    pods_read = kind_states[kinds.PODS].status in (KindStatus.LIVE, KindStatus.PER_NAMESPACE)
    if pods_read and not blind and (app or pods or deployment):
        findings += pod_findings(pods, deployment)
    if web is not None:
        findings += web_findings(web)
    if s3 is not None:
        findings += s3_findings(s3)
    if app is not None:
        findings += app_findings(app)
    if not findings:
        observed = app is not None or pods or web is not None
        if not observed:
            loading = any(k.status == KindStatus.LOADING for k in kind_states.values())
            return Health.UNKNOWN, "loading" if loading else "nothing observed"
    if platform is not None:
        findings = platform_findings(platform) + findings
    return combine(findings)


def unprobed(tenant: TenantState) -> list[str]:
    """The probes that have not answered for the tenant yet ("status.php", "S3")."""
    if not tenant.in_repo:
        return []
    return [name for name, probe in (("status.php", tenant.web), ("S3", tenant.s3)) if not probe]


def with_pending_probes(tenant: TenantState) -> TenantState:
    """A tenant that looks healthy but whose first status.php or S3 probe has not answered
    is pending, not healthy: what nobody has checked is not vouched for. (A tenant already
    judged worse keeps its word.)"""
    missing = unprobed(tenant)
    if not missing or tenant.health is not Health.HEALTHY:
        return tenant
    return replace(
        tenant,
        health=Health.PENDING,
        reason=f"pending: {' and '.join(missing)} not probed yet",
    )


# -- age of the data ----------------------------------------------------------------------------


def data_checked_at(tenant: TenantState) -> datetime | None:
    """When the oldest probe result of the tenant was taken: the age of its outside-in data."""
    times = [probe.checked_at for probe in (tenant.web, tenant.s3) if probe is not None]
    return min(times) if times else None
