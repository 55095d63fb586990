"""The home screen: the platform strip, then every tenant grouped by wave, live."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.render.fleet_rows import RowCache, build_rows, tenant_key, tenant_of
from ncconsole.tui.keys import bind
from ncconsole.tui.screens import is_visible
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import Banner, FleetHeader
from ncconsole.tui.widgets.platform_strip import PlatformStrip

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp


class FleetScreen(Screen[None]):
    CSS_PATH = "fleet.tcss"
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("filter", "filter"),
        bind("back", "clear_filter", "Clear filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self._row_cache = RowCache()
        self._smoke_problem = ""

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="fleet-header")
        yield Banner(id="banner")
        yield PlatformStrip(id="platform")
        yield FleetTable(id="fleet-table")
        yield Input(
            placeholder="filter: part of a name, or a state (degraded, outofsync…)",
            id="filter",
            compact=True,
        )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.header = self.query_one(FleetHeader)
        self.banner = self.query_one(Banner)
        self.platform = self.query_one(PlatformStrip)
        self.table = self.query_one(FleetTable)
        self.filter_input = self.query_one("#filter", Input)
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self._tick)

    @property
    def fleet(self) -> FleetSnapshot | None:
        return self.app.snapshot

    def _tick(self) -> None:
        self._show_snapshot(self.fleet)

    def repaint(self) -> None:
        """Every row again, e.g. in another theme's styles."""
        self._row_cache = RowCache()
        self._show_snapshot(self.fleet)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.fleet)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return  # hidden under the detail or help: catch up in on_screen_resume
        now = self.app.now()
        self.header.show(snapshot, now)
        self.banner.show(snapshot, now)
        if snapshot is None:
            return
        settings = self.app.settings
        self.platform.show(
            snapshot.platform, settings.platform_namespace, settings.secret.store_name
        )
        rows = build_rows(snapshot, now, self.query_text, self._row_cache)
        self.table.show_rows(rows)
        if snapshot.smoke_problem != self._smoke_problem:
            self._smoke_problem = snapshot.smoke_problem
            if snapshot.smoke_problem:
                self.notify(
                    snapshot.smoke_problem, title="smoke record", severity="warning", timeout=15
                )

    # --- filter -------------------------------------------------------------------------

    def apply_filter(self, query: str) -> None:
        """Show only tenants matching `query` (empty shows all)."""
        self.query_text = query
        self.filter_input.set_class(bool(query), "-active")
        if self.filter_input.value != query:
            self.filter_input.value = query
        self._show_snapshot(self.fleet)

    def action_filter(self) -> None:
        self.filter_input.add_class("-active")
        # Focus now, not via focus()'s call_later: keys typed right after "/" (fast typing,
        # a paste) are already queued and would otherwise reach the table and be lost.
        self.set_focus(self.filter_input)

    def action_clear_filter(self) -> None:
        self.apply_filter("")
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._show_snapshot(self.fleet)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.filter_input.set_class(bool(event.value), "-active")
        self.table.focus()

    # --- navigation ---------------------------------------------------------------------

    @on(DataTable.RowSelected, "#fleet-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        name = tenant_of(event.row_key.value or "")
        if name:
            self.app.open_tenant(name)

    def select_tenant(self, name: str) -> bool:
        """Put the cursor on tenant `name` (clearing a filter that hides it)."""
        if not self.table.move_to(tenant_key(name)):
            self.apply_filter("")
        return self.table.move_to(tenant_key(name))
