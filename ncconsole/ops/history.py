"""A tenant's Argo CD sync history and what a sync or rollback would change.

`tenant_history` lists every entry of the Application's `status.history` (id, deployed at,
revision(s) as chart version + short commit, who initiated it), newest first, from either
the single- or the multi-source shape. `tenant_diff` compares what is deployed (the newest
entry) with a target - the Application's own (what a sync would bring), a history entry (what
a rollback would bring back) or a revision the user names - in the local GitOps repo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.revisions import Revisions, app_sources, revisions_of, revisions_of_key
from ncconsole.gitops.values_diff import ValuesDiff, values_diff
from ncconsole.kube import revisions
from ncconsole.kube.argocd import get_app
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.views import parse_time
from ncconsole.ops.errors import AccessDenied, OpsError
from ncconsole.ops.guard import forbidden_message
from ncconsole.settings import Settings

Obj = dict[str, Any]


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    deployed_at: datetime | None
    revisions: Revisions
    initiated_by: str
    current: bool  # the newest entry: what runs now

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deployed_at": self.deployed_at.isoformat() if self.deployed_at else None,
            "revisions": self.revisions.as_dict(),
            "revision": self.revisions.short(),
            "initiated_by": self.initiated_by,
            "current": self.current,
        }


def read_application(conn: KubeConnection, settings: Settings, tenant: str) -> Obj:
    argo, name = settings.argocd_namespace, settings.app_name_for(tenant)
    try:
        return get_app(conn, argo, name)
    except ApiStatusError as err:
        if err.status == 404:
            raise OpsError(f"tenant {tenant}: no Application {argo}/{name}") from None
        if err.status == 403:
            raise AccessDenied(
                forbidden_message("get", "applications", argo, group="argoproj.io")
            ) from None
        raise


def _initiator(entry: Obj) -> str:
    who = entry.get("initiatedBy") or {}
    if who.get("automated"):
        return "automated"
    return str(who.get("username") or "?")


def history_entries(app: Obj) -> list[HistoryEntry]:
    """Newest first."""
    sources = app_sources(app)
    raw = sorted(
        (h for h in (app.get("status") or {}).get("history") or [] if isinstance(h, dict)),
        key=lambda h: int(h.get("id") or 0),
        reverse=True,
    )
    return [
        HistoryEntry(
            id=int(h.get("id") or 0),
            deployed_at=parse_time(h.get("deployedAt")),
            revisions=revisions_of(h, sources),
            initiated_by=_initiator(h),
            current=i == 0,
        )
        for i, h in enumerate(raw)
    ]


def tenant_history(conn: KubeConnection, settings: Settings, tenant: str) -> list[HistoryEntry]:
    return history_entries(read_application(conn, settings, tenant))


def sync_target(app: Obj) -> Revisions:
    """What a sync to the Application's own target brings: the revisions Argo CD compared
    the live state with (status.sync)."""
    return revisions_of((app.get("status") or {}).get("sync") or {}, app_sources(app))


def tenant_diff(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    *,
    revision: str = "",
    history_id: int | None = None,
) -> ValuesDiff:
    """Deployed (newest history entry) -> the target: the Application's own, history entry
    `history_id`, or `revision` (a commit, branch or tag of the local repo)."""
    app = read_application(conn, settings, tenant)
    entries = history_entries(app)
    deployed = entries[0].revisions if entries else Revisions()
    if history_id is not None:
        found = next((e for e in entries if e.id == history_id), None)
        if found is None:
            ids = ", ".join(str(e.id) for e in entries) or "none"
            raise OpsError(f"tenant {tenant}: no history id {history_id} (ids: {ids})")
        target = found.revisions
    elif revision:  # a revision key (chart version,commit) or a commit, branch or tag
        multi = bool((app.get("spec") or {}).get("sources"))
        target = (
            revisions_of_key(revision, multi, app_sources(app))
            if revisions.SEP in revision
            else Revisions(commit=revision)
        )
    else:
        target = sync_target(app)
    diff = values_diff(
        settings.repo, tenant, deployed.commit, target.commit,
        old_chart=deployed.chart, new_chart=target.chart,
    )  # fmt: skip
    if not entries and not diff.problem.startswith("commit"):
        diff.problem = f"tenant {tenant} was never synced: everything in {target.short()} is new"
    return diff


def change_summary(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    *,
    revision: str = "",
    history_id: int | None = None,
) -> str:
    """`tenant_diff(...).summary()` for a confirmation question; never raises - what cannot
    be read is said in the summary instead."""
    try:
        return tenant_diff(
            conn, settings, tenant, revision=revision, history_id=history_id
        ).summary()
    except NcConsoleError as err:
        return f"changes unknown: {err}"
