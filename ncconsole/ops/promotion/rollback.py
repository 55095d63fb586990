"""Roll one tenant back: sync its Application to an earlier revision from `status.history`
(default: the newest entry at other revisions than the current), followed and smoke-checked
like a promotion's tenant (tenant_sync.py).

What is sent is what argocd-server's own Rollback sends: a multi-source Application gets the
entry's `revisions` and `sources` (`operation.sync.revisions` + `.sources`), a single-source
one its `revision`. Where Argo CD cannot do it the plan refuses and says why: an entry with no
revisions, one recorded in the other source shape, or one that names another number of
revisions than the Application has sources (and records no sources of its own). With
`syncPolicy.automated` on, auto-sync would sync the Application straight back: refused unless
forced, as argocd-server refuses ("rollback cannot be initiated when auto-sync is enabled").

After a rollback Argo CD still compares with Git's HEAD, so the Application shows OutOfSync:
"done" here is our operation Succeeded at the old revision, reconciled and Healthy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ncconsole.fleet.health import autosync_undoes
from ncconsole.kube import revisions
from ncconsole.kube.argocd import SyncRefused, get_app
from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.lease import current_user
from ncconsole.kube.views import parse_app, revision_key
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
    current_revision: str  # revision keys (kube/revisions.py)
    target_id: int
    target_revision: str
    # The history entry's sources (multi-source: sent along, as Argo CD's Rollback does).
    sources: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    # Why auto-sync would undo it ("" when it would not): refused unless forced.
    autosync: str = ""

    def describe(self) -> str:
        return (
            f"roll {self.app} back from history {self.current_id} "
            f"({revisions.short(self.current_revision)}) to history {self.target_id} "
            f"({revisions.short(self.target_revision)})"
        )


def plan_rollback(
    conn: KubeConnection, settings: Settings, tenant: str, to_id: int | None = None
) -> RollbackPlan:
    """Which history entry to go back to; OpsError naming the Application when there is
    none, or when Argo CD could not sync to it."""
    app_name = settings.app_name_for(tenant)
    try:
        app = get_app(conn, settings.argocd_namespace, app_name)
    except ApiStatusError as err:
        if err.status == 404:
            raise OpsError(
                f"tenant {tenant}: no Application {settings.argocd_namespace}/{app_name}"
            ) from None
        raise
    view = parse_app(app)
    history: list[dict[str, Any]] = sorted(
        (h for h in (app.get("status") or {}).get("history") or [] if isinstance(h, dict)),
        key=lambda h: int(h.get("id") or 0),
    )
    if not history:
        raise OpsError(f"{app_name} has no sync history to roll back to")
    current = history[-1]
    current_key = revision_key(current, view.multi_source)
    if to_id is None:
        earlier = [h for h in history[:-1] if revision_key(h, view.multi_source) != current_key]
        if not earlier:
            raise OpsError(
                f"{app_name} has no history entry at other revisions than the current "
                f"({revisions.short(current_key)}; ids: {_ids(history)})"
            )
        target = earlier[-1]
    else:
        target = next((h for h in history if int(h.get("id") or 0) == to_id), {})
        if not target:
            raise OpsError(f"{app_name}: no history id {to_id} (ids: {_ids(history)})")
    sources = _rollback_sources(app_name, app, target, view.multi_source)
    key = revision_key(target, view.multi_source)
    return RollbackPlan(
        tenant,
        app_name,
        settings.namespace_for(tenant),
        int(current.get("id") or 0),
        current_key,
        int(target.get("id") or 0),
        key,
        sources,
        autosync=autosync_undoes(view, key),
    )


def _ids(history: list[dict[str, Any]]) -> str:
    return ", ".join(str(h.get("id")) for h in history)


def _rollback_sources(
    app_name: str, app: dict[str, Any], entry: dict[str, Any], multi: bool
) -> tuple[dict[str, Any], ...]:
    """The sources to send with the rollback; OpsError where Argo CD could not sync the
    entry's revisions."""
    entry_id = entry.get("id")
    plural = [str(r) for r in entry.get("revisions") or [] if r is not None]
    singular = str(entry.get("revision") or "")
    if not multi:
        if not singular:
            shape = "several sources" if plural else "no revision"
            raise OpsError(
                f"{app_name}: history {entry_id} has {shape}; Argo CD can roll a single-source "
                "Application back only to an entry with one revision"
            )
        return ()
    if not plural:
        raise OpsError(
            f"{app_name}: history {entry_id} records "
            + (f"one revision ({revisions.short(singular)})" if singular else "no revisions")
            + "; Argo CD rolls a multi-source Application back only to an entry with one "
            "revision per source"
        )
    recorded = [dict(s) for s in entry.get("sources") or [] if isinstance(s, dict)]
    if recorded and len(recorded) == len(plural):
        return tuple(recorded)
    count = len((app.get("spec") or {}).get("sources") or [])
    if len(plural) != count:
        raise OpsError(
            f"{app_name}: history {entry_id} names {len(plural)} revisions but the Application "
            f"has {count} sources and the entry records none; Argo CD cannot sync it"
        )
    return ()  # the spec's own sources, at the entry's revisions


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
    force: bool = False,
) -> TenantProgress:
    """Request the sync to the plan's revision, follow it, smoke-check; audited. Refused
    when auto-sync would undo it, unless `force`."""
    require_writable(settings, f"roll back tenant {plan.tenant}")
    if plan.autosync and not force:
        raise Refused(f"{plan.autosync}; roll back anyway with --force")
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
        done_text=f"rolled back to {revisions.short(plan.target_revision)}",
        sources=plan.sources,
        force=force,
    )
    args = {"history_id": plan.target_id, "revision": plan.target_revision, "timeout": timeout,
            "forced": force}  # fmt: skip
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
