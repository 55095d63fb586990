"""Roll one tenant back: sync its Application to an earlier revision from `status.history`
(default: the one before the current), followed and smoke-checked like a promotion's tenant
(tenant_sync.py).

After a rollback Argo CD still compares with Git's HEAD, so the Application shows OutOfSync:
"done" here is our operation Succeeded at the old revision, reconciled and Healthy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ncconsole.kube.argocd import SyncRefused, get_app
from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.lease import current_user
from ncconsole.ops.audit import Auditor, audited
from ncconsole.ops.errors import OpsError, Refused
from ncconsole.ops.guard import Permission, require_access, require_writable
from ncconsole.ops.promotion.model import Phase, ProgressCallback, RunSmoke, TenantProgress
from ncconsole.ops.promotion.tenant_sync import AUDIT_RESULT, SyncTarget, sync_and_verify
from ncconsole.settings import Settings


@dataclass(frozen=True)
class RollbackPlan:
    tenant: str
    app: str
    namespace: str  # the tenant's
    current_id: int
    current_revision: str
    target_id: int
    target_revision: str

    def describe(self) -> str:
        return (
            f"roll {self.app} back from history {self.current_id} ({self.current_revision[:12]}) "
            f"to history {self.target_id} ({self.target_revision[:12]})"
        )


def plan_rollback(
    conn: KubeConnection, settings: Settings, tenant: str, to_id: int | None = None
) -> RollbackPlan:
    """Which history entry to go back to; OpsError naming the Application when there is none."""
    app_name = settings.app_name_for(tenant)
    try:
        app = get_app(conn, settings.argocd_namespace, app_name)
    except ApiStatusError as err:
        if err.status == 404:
            raise OpsError(
                f"tenant {tenant}: no Application {settings.argocd_namespace}/{app_name}"
            ) from None
        raise
    history: list[dict[str, Any]] = sorted(
        (h for h in (app.get("status") or {}).get("history") or [] if isinstance(h, dict)),
        key=lambda h: int(h.get("id") or 0),
    )
    if not history:
        raise OpsError(f"{app_name} has no sync history to roll back to")
    current = history[-1]
    if to_id is None:
        if len(history) < 2:
            raise OpsError(f"{app_name} has only one history entry (id {current.get('id')})")
        target = history[-2]
    else:
        target = next((h for h in history if int(h.get("id") or 0) == to_id), {})
        if not target:
            ids = ", ".join(str(h.get("id")) for h in history)
            raise OpsError(f"{app_name}: no history id {to_id} (ids: {ids})")
    return RollbackPlan(
        tenant,
        app_name,
        settings.namespace_for(tenant),
        int(current.get("id") or 0),
        str(current.get("revision") or ""),
        int(target.get("id") or 0),
        str(target.get("revision") or ""),
    )


def run_rollback(
    conn: KubeConnection,
    settings: Settings,
    plan: RollbackPlan,
    *,
    run_smoke: RunSmoke,
    confirmed: bool,
    auditor: Auditor | None = None,
    timeout: float = 600.0,
    on_progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    user: str = "",
) -> TenantProgress:
    """Request the sync to the plan's revision, follow it, smoke-check; audited."""
    require_writable(settings, f"roll back tenant {plan.tenant}")
    if not confirmed:
        raise Refused(f"{plan.describe()}: confirm it (--yes on the command line)")
    require_access(
        conn, Permission("patch", "applications", settings.argocd_namespace, "argoproj.io")
    )
    progress = TenantProgress(plan.tenant, plan.app, started=time.monotonic())

    def emit(phase: Phase, message: str) -> None:
        progress.phase, progress.message = phase, message
        if on_progress is not None:
            on_progress(progress.copy())

    def requested() -> None:
        progress.synced = True

    target = SyncTarget(
        settings.argocd_namespace,
        plan.app,
        plan.tenant,
        revision=plan.target_revision,
        reason=f"ncconsole: rollback to history {plan.target_id}",
        require_synced=False,
        done_text=f"rolled back to {plan.target_revision[:12]}",
    )
    args = {"history_id": plan.target_id, "revision": plan.target_revision, "timeout": timeout}
    with audited(
        auditor,
        "rollback",
        f"{plan.namespace}/{plan.app}",
        args,
        namespace=plan.namespace,
        reason="NcconsoleRollback",
    ) as act:
        try:
            phase, message = sync_and_verify(
                conn,
                target,
                user=user or current_user(),
                run_smoke=run_smoke,
                timeout=timeout,
                on_phase=emit,
                on_requested=requested,
                cancel=cancel,
            )
        except SyncRefused as err:
            raise Refused(str(err)) from None
        progress.finished = time.monotonic()
        act.result, act.exit_code = AUDIT_RESULT[phase]
        act.message = message
    return progress
