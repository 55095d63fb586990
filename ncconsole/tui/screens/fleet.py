"""The home screen: the platform strip, then every tenant grouped by wave, live.

The columns fit the terminal (render/layout.py: REASON stays, the least needed go first);
shift+letter sorts as k9s does (H problems first, R restarts, V version, Y pods ready, E env,
N name; again reverses) and W lists across waves instead of within them; `/` filters by the
words shown or by fields (render/filter.py) and says so when nothing matches."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from ncconsole.fleet.model import FleetSnapshot, TenantState
from ncconsole.render.filter import describe
from ncconsole.render.fleet_rows import (
    DEFAULT_ORDER,
    CellWidths,
    Row,
    RowCache,
    SortOrder,
    build_rows,
    tenant_key,
    tenant_of,
)
from ncconsole.render.layout import Column, fit_columns
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
        bind("sort_problems", "sort('health')"),
        bind("sort_restarts", "sort('restarts')"),
        bind("sort_version", "sort('version')"),
        bind("sort_pods", "sort('pods')"),
        bind("sort_env", "sort('env')"),
        bind("sort_name", "sort('name')"),
        bind("sort_waves", "across_waves"),
    ]
    # Keep this many cells for a scrollbar when the rows overflow, so it cuts no column.
    SCROLLBAR = 2

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.order: SortOrder = DEFAULT_ORDER
        self._row_cache = RowCache()
        self._smoke_problem = ""
        self._widths = CellWidths()
        # The snapshot the table shows and its tenants by name (filled when first needed): the
        # tick brings those rows up to the clock; a newer snapshot is for _show_snapshot, which
        # also redraws the wave lines and the order.
        self._shown: FleetSnapshot | None = None
        self._shown_by_name: dict[str, TenantState] = {}
        self._in_view: list[str] = []

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="fleet-header")
        yield Banner(id="banner")
        yield PlatformStrip(id="platform")
        yield FleetTable(id="fleet-table")
        yield Static("", id="no-match")
        yield Input(
            placeholder="filter: words shown (out of sync, 30.0.6, prod) or fields "
            "(wave:3 env:prod health:degraded smoke:fail, ! to negate)",
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
        self.no_match = self.query_one("#no-match", Static)
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self._tick)

    @property
    def fleet(self) -> FleetSnapshot | None:
        return self.app.snapshot

    def _tick(self) -> None:
        """Each second only what depends on the clock: the header's data age and the
        clock-dependent cells of the rows in view (a full rebuild, every row every second,
        was most of the console's CPU at 2,000 tenants)."""
        if not is_visible(self):
            return
        snapshot, now = self.fleet, self.app.now()
        self.header.show(snapshot, now, self._order_note())
        self.banner.show(snapshot, now)
        self._refresh_in_view()

    def _order_note(self) -> str:
        return self.order.describe() if self.order != DEFAULT_ORDER else ""

    @on(FleetTable.ViewChanged)
    def _refresh_in_view(self) -> None:
        """Bring the rows in view up to the clock, and tell the source which tenants are on
        screen (their probes go first)."""
        snapshot = self._shown
        if snapshot is None or not is_visible(self):
            return
        if not self._shown_by_name:
            self._shown_by_name = {tenant.name: tenant for tenant in snapshot.tenants}
        tenants, now = self._shown_by_name, self.app.now()
        rows, names = [], []
        for key in self.table.keys_in_view():
            tenant = tenants.get(tenant_of(key) or "")
            if tenant is not None:
                rows.append(Row(key, self._row_cache.refresh(tenant, now)))
                names.append(tenant.name)
        self.table.update_rows(rows)
        if names != self._in_view:
            self._in_view = names
            self.app.source.focus(names)

    def repaint(self) -> None:
        """Every row again, e.g. in another theme's styles."""
        self._row_cache = RowCache()
        self.table.set_layout(self.table.layout_columns, force=True)
        self._show_snapshot(self.fleet)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.fleet)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return  # hidden under the detail or help: catch up in on_screen_resume
        now = self.app.now()
        self.header.show(snapshot, now, self._order_note())
        self.banner.show(snapshot, now)
        if snapshot is None:
            return
        settings = self.app.settings
        self.platform.show(
            snapshot, now, namespace=settings.platform_namespace,
            store=settings.secret.store_name,
            reads_platform=self.app.reads_platform,  # type: ignore[attr-defined]
            note=self.app.platform_note,  # type: ignore[attr-defined]
        )  # fmt: skip
        layout = self._fit(snapshot, now)
        cursor = self.table.cursor_key
        if self.table.set_layout(layout):
            self.log(f"fleet columns: {', '.join(c.key for c in layout)}")
        rows = build_rows(snapshot, now, self.query_text, self._row_cache, layout, self.order)
        self.table.show_rows(rows)
        if self._shown is not snapshot:
            self._shown, self._shown_by_name = snapshot, {}
        if cursor is not None and self.table.cursor_key != cursor:
            self.table.move_to(cursor)
        self._say_no_match(not rows and bool(self.query_text.strip()))
        self._refresh_in_view()
        if snapshot.smoke_problem != self._smoke_problem:
            self._smoke_problem = snapshot.smoke_problem
            if snapshot.smoke_problem:
                self.notify(
                    snapshot.smoke_problem, title="smoke record", severity="warning", timeout=15
                )

    # --- columns and order ----------------------------------------------------------------

    def _fit(self, snapshot: FleetSnapshot, now: datetime) -> tuple[Column, ...]:
        """The columns for the table's width, from the widest cells of the tenants shown now
        (each tenant measured again only when its state changed)."""
        widths = self._widths.widest(snapshot.tenants, now, flat=not self.order.by_wave)
        lines = len(snapshot.tenants) + len(snapshot.waves()) + 1
        scrollbar = self.SCROLLBAR if lines > (self.table.size.height or 1) else 0
        available = (self.table.size.width or self.app.size.width) - scrollbar
        return fit_columns(max(available, 40), widths)

    def on_resize(self, event: events.Resize) -> None:
        # The snapshot newest when it runs: one captured now could be older by then.
        self.call_after_refresh(lambda: self._show_snapshot(self.fleet))

    def action_sort(self, key: str) -> None:
        """Sort by `key`; the same key again reverses (as in k9s)."""
        order = self.order
        if order.key == key:
            self.order = SortOrder(key, not order.reverse, order.by_wave)
        else:
            self.order = SortOrder(key, False, order.by_wave)
        self._reordered()

    def action_across_waves(self) -> None:
        order = self.order
        self.order = SortOrder(order.key, order.reverse, not order.by_wave)
        self._reordered()

    def _reordered(self) -> None:
        self.notify(self.order.describe(), timeout=2)
        self._show_snapshot(self.fleet)

    def _say_no_match(self, empty: bool) -> None:
        self.no_match.set_class(empty, "-visible")
        if empty:
            self.no_match.update(
                f"no tenant matches {describe(self.query_text)!r} — esc clears the filter"
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
