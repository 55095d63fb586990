"""Sync one tenant (`ncconsole sync TENANT`, `S` on its detail screen): onboarding a new tenant
or re-syncing one that drifted, with the promotion's own request and follow rules
(tenant_sync.sync_and_verify) and its smoke checks.

A sync to the Application's own target is a promotion of one tenant, so the wave order
holds: when a tenant of an earlier wave is not Synced and Healthy at that same commit, the
tenant would get a revision the canary has not had - the sync is refused (exit 3) unless
forced (`--force`; the console asks "sync anyway" and lists who is behind). A sync to an
explicit `--revision` is a pin, not a rollout of the target: no wave check.
`--dry-run` plans and checks (read-only mode, RBAC, the wave order, a running operation)
and requests nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ncconsole.fleet.health import sync_busy
from ncconsole.fleet.revisions import Revisions, app_sources, revisions_of, revisions_of_key
from ncconsole.kube import revisions
from ncconsole.kube.argocd import SyncRefused, app_path, get_app
from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.lease import current_user
from ncconsole.kube.objects import list_items
from ncconsole.kube.views import parse_app, revision_key
from ncconsole.ops.audit import Auditor, audited
from ncconsole.ops.errors import ConfirmationRequired, OpsError, Refused
from ncconsole.ops.promotion.model import Phase, ProgressCallback, RunSmoke, TenantProgress
from ncconsole.ops.promotion.tenant_sync import AUDIT_RESULT, SyncTarget, sync_and_verify
from ncconsole.ops.tenant_actions import preflight
from ncconsole.settings import Settings

Obj = dict[str, Any]


class WaveBehind(Refused):
    """An earlier wave does not run the revision this sync would give the tenant. Exit 3,
    like a promotion gate."""

    exit_code = 3


@dataclass(frozen=True)
class SyncPlan:
    tenant: str
    app: str
    namespace: str  # the tenant's
    wave: int | None
    revision: str  # asked for, as a revision key ("" = the Application's own target)
    current: Revisions  # what the last sync deployed
    target: Revisions  # what the sync will deploy (for a --revision: the commit asked for)
    sync_status: str
    health: str
    prune: bool = False
    behind: tuple[str, ...] = ()  # earlier-wave tenants not at the target, with why
    busy: str = ""  # an operation already requested or running
    new: bool = False  # never synced (onboarding)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        to = self.target.short() if not self.revision else f"revision {self.target.short()}"
        what = f"sync {self.app} to {to}" + (" with prune" if self.prune else "")
        if self.new:
            return f"{what} (first sync: onboarding)"
        return f"{what} (now {self.current.short()}, {self.sync_status}, {self.health})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "application": self.app,
            "wave": self.wave,
            "revision": self.revision or None,
            "current": self.current.as_dict(),
            "target": self.target.as_dict(),
            "sync": self.sync_status,
            "health": self.health,
            "prune": self.prune,
            "behind": list(self.behind),
            "busy": self.busy or None,
            "first_sync": self.new,
        }


def _wave(app: Obj, settings: Settings) -> int | None:
    raw = ((app.get("metadata") or {}).get("labels") or {}).get(settings.labels.wave)
    try:
        return int(str(raw))
    except ValueError:
        return None


def _current(app: Obj) -> Revisions:
    history = sorted(
        ((app.get("status") or {}).get("history") or []), key=lambda h: int(h.get("id") or 0)
    )
    return revisions_of(history[-1], app_sources(app)) if history else Revisions()


def plan_sync(
    conn: KubeConnection, settings: Settings, tenant: str, revision: str = "", prune: bool = False
) -> SyncPlan:
    """What a sync of `tenant` would do and what stands in its way (nothing is changed)."""
    argo, name = settings.argocd_namespace, settings.app_name_for(tenant)
    try:
        app = get_app(conn, argo, name)
    except ApiStatusError as err:
        if err.status == 404:
            raise OpsError(
                f"tenant {tenant}: no Application {argo}/{name} (is its file committed and "
                "pushed? the ApplicationSet makes the Application)"
            ) from None
        raise
    status = app.get("status") or {}
    sources = app_sources(app)
    view = parse_app(app)
    multi = view.multi_source
    target_key = revision_key(status.get("sync") or {}, multi)
    target = revisions_of(status.get("sync") or {}, sources)
    if revision:
        # A commit (prefix), a chart version or CHART@COMMIT, as for wave promote.
        known = [target_key] + [
            revision_key(h, multi) for h in status.get("history") or [] if isinstance(h, dict)
        ]
        revision = revisions.resolve(revision, known, fallback=target_key)
        target = revisions_of_key(revision, multi, sources)
    wave = _wave(app, settings)
    behind: list[str] = []
    if not revision and wave is not None and target_key:
        behind = _behind(conn, settings, wave, target_key)
    return SyncPlan(
        tenant=tenant,
        app=name,
        namespace=settings.namespace_for(tenant),
        wave=wave,
        revision=revision,
        current=_current(app),
        target=target,
        sync_status=view.sync_status,
        health=view.health_status,
        prune=prune,
        behind=tuple(behind),
        busy=sync_busy(view),
        new=not status.get("history"),
    )


def _behind(conn: KubeConnection, settings: Settings, wave: int, key: str) -> list[str]:
    """Tenants of earlier waves not Synced and Healthy at revision key `key` (chart version
    and values commit alike, as the promotion gates compare), each with why."""
    labels = settings.labels
    apps = list_items(conn, app_path(settings.argocd_namespace), labels=labels.wave)
    out = []
    for app in apps:
        other = _wave(app, settings)
        if other is None or other >= wave:
            continue
        view = parse_app(app)
        tenant = ((app.get("metadata") or {}).get("labels") or {}).get(labels.tenant, view.name)
        at = revision_key((app.get("status") or {}).get("sync") or {}, view.multi_source)
        problems = []
        if view.sync_status != "Synced":
            problems.append(view.sync_status)
        elif at and at != key:
            problems.append(f"at {revisions.short(at)}")
        if view.health_status != "Healthy":
            problems.append(view.health_status)
        if problems:
            out.append(f"{tenant} (wave {other}): {', '.join(problems)}")
    return sorted(out)


def run_sync(
    conn: KubeConnection,
    settings: Settings,
    plan: SyncPlan,
    *,
    confirmed: bool,
    run_smoke: RunSmoke,
    force: bool = False,
    auditor: Auditor | None = None,
    timeout: float = 600.0,
    on_progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    user: str = "",
) -> TenantProgress:
    """Request the sync, follow it to Argo CD's "done" rules, run the smoke checks; audited."""
    progress = TenantProgress(plan.tenant, plan.app, started=time.monotonic())

    def emit(phase: Phase, message: str) -> None:
        progress.phase, progress.message = phase, message
        if on_progress is not None:
            on_progress(progress.copy())

    args = {"revision": plan.revision or plan.target.short(), "prune": plan.prune,
            "force": force, "timeout": timeout}  # fmt: skip
    with audited(auditor, "sync", f"{settings.argocd_namespace}/{plan.app}", args,
                 namespace=plan.namespace, reason="NcconsoleSync") as act:  # fmt: skip
        preflight(conn, settings, "sync", plan.tenant)
        if plan.behind and not force:
            raise WaveBehind(
                f"{plan.app} would get {plan.target.short()} before wave(s) ahead of it: "
                f"{'; '.join(plan.behind)}; promote those first, or sync anyway with --force"
            )
        if not confirmed:
            raise ConfirmationRequired(f"{plan.describe()}: confirm it (--yes on the command line)")

        def requested() -> None:
            progress.synced = True

        target = SyncTarget(
            settings.argocd_namespace, plan.app, plan.tenant, revision=plan.revision,
            reason="ncconsole: sync" + (" (forced past the wave order)" if plan.behind else ""),
            require_synced=not plan.revision, prune=plan.prune, force=force,
            done_text=f"synced to {plan.target.short()}",
        )  # fmt: skip
        try:
            phase, message = sync_and_verify(
                conn, target, user=user or current_user(), run_smoke=run_smoke,
                timeout=timeout, on_phase=emit, on_requested=requested, cancel=cancel,
            )  # fmt: skip
        except SyncRefused as err:
            raise Refused(str(err)) from None
        progress.finished = time.monotonic()
        act.result, act.exit_code = AUDIT_RESULT[phase]
        act.message = message
    return progress
