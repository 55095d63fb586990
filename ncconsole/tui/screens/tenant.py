"""Tenant detail (enter on a tenant): pods, Argo CD, S3, Nextcloud, events, its alerts and its
part of the shared platform (PgBouncer pool, certificate), live - and the
keys that find the cause and fix it (k9s's where k9s has one):

  l / p      logs / previous (crashed) run          d / y    describe / YAML
  e          all events                             h        sync history (rollback from it)
  r          restart (rollout restart)              ctrl+k   delete the selected pod
  S          sync                                   D        diff: what a sync would change
  T          terminate the running operation        ctrl+r   hard refresh
  R          rollback (choose from the history)     c        copy a name or value
  j / k      select a pod                           m        silence its alerts

Always a full screen of its own, which is what 80x24 needs; esc goes back to the fleet. The
actions themselves live in tenant_actions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.fleet.model import FleetSnapshot, TenantState
from ncconsole.tui.keys import bind
from ncconsole.tui.screens import is_visible
from ncconsole.tui.screens.tenant_actions import TenantActions
from ncconsole.tui.widgets import panes
from ncconsole.tui.widgets.header import Banner, FleetHeader

# Pane id -> what it shows of a TenantState (the pods pane also shows the selected pod).
PANES = (
    ("argo", panes.argo_view),
    ("s3", panes.s3_view),
    ("nextcloud", panes.nextcloud_view),
    ("events", panes.events_view),
    ("alerts", panes.alerts_view),
    ("shared", panes.platform_view),
)

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp


class TenantScreen(TenantActions, Screen[None]):
    CSS_PATH = "tenant.tcss"
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("pod_next", "select_pod(1)", priority=True),
        bind("pod_previous", "select_pod(-1)", priority=True),
        bind("describe", "inspect('describe')"),
        bind("yaml", "inspect('yaml')"),
        bind("events", "events"),
        bind("restart", "restart"),
        bind("delete_pod", "delete_pod"),
        bind("sync", "sync"),
        bind("terminate", "terminate"),
        bind("hard_refresh", "hard_refresh"),
        bind("history", "history"),
        bind("rollback", "rollback"),
        bind("diff", "diff"),
    ]

    def __init__(self, tenant_name: str) -> None:
        super().__init__()
        self.tenant_name = tenant_name
        self.selected_pod: str | None = None
        self.tenant: TenantState | None = None

    def compose(self) -> ComposeResult:
        yield FleetHeader()
        yield Banner()
        yield Static(id="tenant-summary")
        yield Static(id="tenant-action")
        with VerticalScroll(id="tenant-body"):
            yield panes.Pane("Pods (j/k select)", id="pods")
            yield panes.Pane("Alerts (m: silence)", id="alerts")
            yield panes.Pane("Argo CD", id="argo")
            with Horizontal(id="probes"):
                yield panes.Pane("S3 bucket", id="s3")
                yield panes.Pane("Nextcloud", id="nextcloud")
            yield panes.Pane("Recent events (e: all)", id="events")
            yield panes.Pane("Shared platform", id="shared")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.body = self.query_one("#tenant-body", VerticalScroll)
        self.action_line = self.query_one("#tenant-action", Static)
        self.body.focus()
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self.on_screen_resume)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.app.snapshot)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return  # hidden under help: catch up in on_screen_resume
        if not self.query("#shared"):  # just pushed: the panes are still being mounted
            self.call_after_refresh(self.on_screen_resume)
            return
        now = self.app.now()
        self.query_one(FleetHeader).show(snapshot, now)
        self.query_one(Banner).show(snapshot, now)
        tenant = snapshot.tenant(self.tenant_name) if snapshot else None
        self.tenant = tenant
        summary = self.query_one("#tenant-summary", Static)
        if tenant is None:
            summary.update(Text(f"tenant {self.tenant_name} is not in the fleet (any more)"))
            return
        names = [pod.name for pod in tenant.pods]
        if self.selected_pod not in names:
            self.selected_pod = names[0] if names else None
        summary.update(panes.summary_view(tenant))
        self.query_one("#pods", panes.Pane).update(panes.pods_view(tenant, now, self.selected_pod))
        for pane_id, view in PANES:
            self.query_one(f"#{pane_id}", panes.Pane).update(view(tenant, now))

    def action_select_pod(self, step: int) -> None:
        names = [pod.name for pod in self.tenant.pods] if self.tenant else []
        if not names:
            return
        index = names.index(self.selected_pod) if self.selected_pod in names else -step
        self.selected_pod = names[(index + step) % len(names)]
        self._show_snapshot(self.app.snapshot)  # type: ignore[attr-defined]
