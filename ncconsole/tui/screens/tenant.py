"""Tenant detail (enter on a tenant): pods, Argo CD, S3, Nextcloud and events, live.

Always a full screen of its own, which is what 80x24 needs; esc goes back to the fleet."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.tui.keys import bind
from ncconsole.tui.screens import is_visible
from ncconsole.tui.widgets import panes
from ncconsole.tui.widgets.header import Banner, FleetHeader

# Pane id -> what it shows of a TenantState.
PANES = (
    ("pods", panes.pods_view),
    ("argo", panes.argo_view),
    ("s3", panes.s3_view),
    ("nextcloud", panes.nextcloud_view),
    ("events", panes.events_view),
)

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp


class TenantScreen(Screen[None]):
    CSS_PATH = "tenant.tcss"
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("cursor_down", "scroll_down"),
        bind("cursor_up", "scroll_up"),
    ]

    def __init__(self, tenant_name: str) -> None:
        super().__init__()
        self.tenant_name = tenant_name

    def compose(self) -> ComposeResult:
        yield FleetHeader()
        yield Banner()
        yield Static(id="tenant-summary")
        with VerticalScroll(id="tenant-body"):
            yield panes.Pane("Pods", id="pods")
            yield panes.Pane("Argo CD", id="argo")
            with Horizontal(id="probes"):
                yield panes.Pane("S3 bucket", id="s3")
                yield panes.Pane("Nextcloud", id="nextcloud")
            yield panes.Pane("Recent events", id="events")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.body = self.query_one("#tenant-body", VerticalScroll)
        self.body.focus()
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self.on_screen_resume)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.app.snapshot)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return  # hidden under help: catch up in on_screen_resume
        now = self.app.now()
        self.query_one(FleetHeader).show(snapshot, now)
        self.query_one(Banner).show(snapshot, now)
        tenant = snapshot.tenant(self.tenant_name) if snapshot else None
        summary = self.query_one("#tenant-summary", Static)
        if tenant is None:
            summary.update(Text(f"tenant {self.tenant_name} is not in the fleet (any more)"))
            return
        summary.update(panes.summary_view(tenant))
        for pane_id, view in PANES:
            self.query_one(f"#{pane_id}", panes.Pane).update(view(tenant, now))

    def action_scroll_down(self) -> None:
        self.body.scroll_down()

    def action_scroll_up(self) -> None:
        self.body.scroll_up()
