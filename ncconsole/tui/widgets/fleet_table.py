"""The fleet table: one DataTable diffed against each new set of rows.

Rows are keyed by stable ids; a new snapshot changes only the cells whose text changed, adds
and removes rows as tenants come and go, and keeps the cursor on the same row, so a live
table neither flickers nor jumps. Its columns are a layout (render/layout.py) that the screen
fits to the terminal; a new layout rebuilds the table once.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual._two_way_dict import TwoWayDict
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

from ncconsole.render.fleet_rows import COLUMNS, Row, tenant_of
from ncconsole.render.layout import Column
from ncconsole.tui.keys import bind

# Render cache sizes: about four screens of a tall terminal.
ROWS_CACHED = 400
CELLS_CACHED = ROWS_CACHED * len(COLUMNS)


class FleetTable(DataTable[Text]):
    class ViewChanged(Message):
        """Other rows came into view (scrolled, resized): cells that depend on the clock are
        only kept current for rows in view, so these may need redrawing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("open", "select_cursor"),
        bind("cursor_down", "cursor_down"),
        bind("cursor_up", "cursor_up"),
    ]
    DEFAULT_CSS = """
    FleetTable { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, zebra_stripes=False, **kwargs)
        self._cells: dict[str, tuple[Text, ...]] = {}
        # The cells object each row was last diffed against: the same object again (a
        # RowCache hit) means nothing to compare.
        self._diffed: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []
        self.layout_columns: tuple[Column, ...] = COLUMNS
        # DataTable's render caches are sized for a table that rarely changes (10,000 cells).
        # Here every change bumps `_update_count`, which is in every key, so old entries are
        # never hit again: a few screens' worth keeps what is reused without growing RSS by
        # tens of MB under churn.
        self._cell_render_cache = LRUCache(CELLS_CACHED)
        self._row_render_cache = LRUCache(ROWS_CACHED)
        self._row_renderable_cache = LRUCache(ROWS_CACHED)
        self._line_cache = LRUCache(ROWS_CACHED)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for column in self.layout_columns:
            self.add_column(Text(column.label, style="bold"), width=column.width, key=column.key)

    def set_layout(self, layout: tuple[Column, ...], force: bool = False) -> bool:
        """Show these columns from now on (the next show_rows fills them); False when they
        are the ones shown already (and not `force`d, e.g. for a new theme)."""
        if layout == self.layout_columns and not force:
            return False
        self.layout_columns = layout
        self.clear(columns=True)
        self._cells.clear()
        self._diffed.clear()
        self._order = []
        self._add_columns()
        return True

    @property
    def cursor_key(self) -> str | None:
        if not self._order or not self.is_valid_row_index(self.cursor_row):
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def cursor_tenant(self) -> str | None:
        key = self.cursor_key
        return tenant_of(key) if key else None

    @property
    def row_keys(self) -> list[str]:
        """Keys of the rows shown, top to bottom."""
        return list(self._order)

    # Wave lines are headings: the cursor steps over them, so enter always opens a tenant.
    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        if self._on_wave_line() and self.cursor_row < self.row_count - 1:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        if self._on_wave_line():
            if self.cursor_row == 0:
                self.move_cursor(row=1)
                self.scroll_home(animate=False)
            else:
                super().action_cursor_up()

    def _on_wave_line(self) -> bool:
        key = self.cursor_key
        return key is not None and tenant_of(key) is None

    def move_to(self, key: str) -> bool:
        if key not in self._cells:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def show_rows(self, rows: list[Row]) -> None:
        """Make the table show exactly `rows`, touching only what differs."""
        first_fill = not self._order
        cursor_key = self.cursor_key
        wanted = {row.key: row.cells for row in rows}
        changed: list[str] = []
        gone = [key for key in self._cells if key not in wanted]
        with self.app.batch_update():
            if gone:
                self._remove_rows(gone)
            for row in rows:
                self._update_row(row, changed)
            order = [row.key for row in rows]
            if order != self._order:
                self._reorder(order)
            self._order = order
            self._repaint_in_view(changed)
            self._restore_cursor(cursor_key, order, first_fill)

    def _remove_rows(self, keys: list[str]) -> None:
        """DataTable.remove_row for many rows at once, renumbering the rows left once.
        remove_row renumbers every row at each call, so a filter typed over 2,000 tenants
        that hid 1,000 of them took 1.1 s (clearing and adding the rest back, 0.25 s). The
        steps are remove_row's in Textual 8.2.8 (pinned), in the same order."""
        gone = {RowKey(key) for key in keys}
        locations = self._row_locations
        kept = sorted((locations.get(key), key) for key in locations if key not in gone)
        self._row_locations = TwoWayDict({key: index for index, (_, key) in enumerate(kept)})
        for row_key in gone:
            for column_key in self._data.get(row_key) or ():
                self._updated_cells.discard(CellKey(row_key, column_key))
            del self.rows[row_key]
            del self._data[row_key]
        for key in keys:
            del self._cells[key]
            self._diffed.pop(key, None)
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def update_rows(self, rows: list[Row]) -> None:
        """Change the cells of rows already shown (e.g. those in view, each second)."""
        changed: list[str] = []
        for row in rows:
            if row.key in self._cells:
                self._update_row(row, changed)
        self._repaint_in_view(changed)

    def keys_in_view(self) -> list[str]:
        """Keys of the rows in the viewport, top to bottom."""
        top = int(self.scroll_y)
        return self._order[top : top + self.size.height]

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            self.post_message(self.ViewChanged())

    def on_resize(self, _: events.Resize) -> None:
        self.post_message(self.ViewChanged())

    def _update_row(self, row: Row, changed: list[str]) -> None:
        """Diff one row against what is shown; new rows are appended (see _reorder)."""
        if self._diffed.get(row.key) is row.cells:
            return
        self._diffed[row.key] = row.cells
        old = self._cells.get(row.key)
        if old is None:
            self.add_row(*row.cells, key=row.key)
            self._cells[row.key] = row.cells
            return
        kept = []
        for column, before, after in zip(self.layout_columns, old, row.cells, strict=True):
            if not _same(before, after):
                self._set_cell(row.key, column.key, after)
                if not changed or changed[-1] != row.key:
                    changed.append(row.key)
            kept.append(before if _same(before, after) else after)
        self._cells[row.key] = tuple(kept)

    def _set_cell(self, row_key: str, column_key: str, value: Text) -> None:
        """`update_cell` without its repaint of the whole widget (`_repaint_in_view` repaints
        the changed rows that are in view). DataTable.update_cell refreshes everything, so
        with thousands of tenants every snapshot re-rendered every visible cell (~80 ms a
        frame at 2,000 tenants, see benchmarks/RESULTS.md). Bumping `_update_count` keeps
        every render cache honest."""
        self._data[RowKey(row_key)][ColumnKey(column_key)] = value
        self._update_count += 1

    def _repaint_in_view(self, keys: list[str]) -> None:
        """Repaint the rows among `keys` that are in view (every row is one line high)."""
        if not keys:
            return
        top = int(self.scroll_y)
        index = {key: top + i for i, key in enumerate(self.keys_in_view())}
        for key in keys:
            if key in index:
                self.refresh_row(index[key])

    def _reorder(self, order: list[str]) -> None:
        # DataTable appends new rows at the end; sort puts wave lines and tenants back in
        # rollout order. The first cell object of each row identifies it.
        position = {id(self._cells[key][0]): index for index, key in enumerate(order)}
        self.sort(key=lambda cells: position[id(cells[0])])

    def _restore_cursor(self, cursor_key: str | None, order: list[str], first_fill: bool) -> None:
        if not order:
            return
        if cursor_key in self._cells and not first_fill:
            target = cursor_key
        else:
            target = next((key for key in order if tenant_of(key)), order[0])
        index = self.get_row_index(target)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)


def _same(before: Text, after: Text) -> bool:
    """Same text and look: Text's == compares the words and spans only, not the cell's own
    style (a smoke result dimmed, a theme switched)."""
    return (
        before.plain == after.plain
        and before.style == after.style
        and (before.spans == after.spans)
    )
