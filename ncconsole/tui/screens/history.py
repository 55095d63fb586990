"""A tenant's Argo CD sync history (`h`), newest first: id, deployed at, chart version and
commit, who initiated it. From `R` (or enter on an entry) it chooses where to roll back to;
`D` shows what the highlighted entry would change against what is deployed."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.ops.history import HistoryEntry, tenant_history
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession
from ncconsole.tui.widgets.table import Table

COLUMNS = (("id", 5), ("deployed at", 21), ("revision", 20), ("initiated by", 28), ("", 16))


class HistoryScreen(Screen[int | None]):
    """Dismissed with the history id to roll back to, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "close"),
        bind("history_rollback", "choose"),
        bind("history_diff", "diff"),
    ]
    DEFAULT_CSS = """
    HistoryScreen #history-title { height: auto; padding: 0 1; }
    HistoryScreen #history-table { height: 1fr; }
    """

    def __init__(self, session: OpsSession, tenant: str, *, rollback: bool = False) -> None:
        super().__init__()
        self.session, self.tenant, self.rollback = session, tenant, rollback
        self.entries: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        yield Static(id="history-title")
        yield Table(id="history-table", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table = self.query_one("#history-table", DataTable)
        for label, width in COLUMNS:
            self.table.add_column(label, key=label or "mark", width=width)
        self.table.focus()
        self._title("reading…")
        self._load()

    def _title(self, note: str = "", error: bool = False) -> None:
        text = Text(f"history · tenant {self.tenant}", style="bold")
        if self.rollback:
            text.append(" · choose the entry to roll back to (enter or R)", style="yellow")
        if note:
            text.append(f"\n{note}", style="red" if error else "dim")
        self.query_one("#history-title", Static).update(text)

    @work(thread=True, group="history", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            entries = tenant_history(
                self.session.cluster().conn, self.session.settings, self.tenant
            )
        except NcConsoleError as err:
            self.app.call_from_thread(self._title, str(err), True)
            return
        self.app.call_from_thread(self._loaded, entries)

    def _loaded(self, entries: list[HistoryEntry]) -> None:
        self.entries = entries
        self.table.clear()
        for entry in entries:
            when = f"{entry.deployed_at:%Y-%m-%d %H:%M:%S}Z" if entry.deployed_at else "?"
            self.table.add_row(
                Text(str(entry.id)), Text(when), Text(entry.revisions.short()),
                Text(entry.initiated_by), Text("deployed now" if entry.current else "", "green"),
                key=str(entry.id),
            )  # fmt: skip
        if len(entries) > 1:
            # Where `ncconsole rollback` goes without --to: the newest entry at other
            # revisions than the deployed one (else the one before it).
            other = [i for i, e in enumerate(entries) if e.revisions != entries[0].revisions]
            self.table.move_cursor(row=other[0] if other else 1)
        self._title(f"{len(entries)} entries" if entries else "no sync history (never synced)")

    def _highlighted(self) -> HistoryEntry | None:
        if not self.entries or self.table.cursor_row is None:
            return None
        return self.entries[min(self.table.cursor_row, len(self.entries) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self.rollback:
            self.action_choose()

    def action_choose(self) -> None:
        entry = self._highlighted()
        if entry is None:
            return
        if entry.current:
            self.notify(f"history {entry.id} is what is deployed now", severity="warning")
            return
        self.dismiss(entry.id)

    def action_diff(self) -> None:
        from ncconsole.tui.screens.diff import DiffScreen

        entry = self._highlighted()
        if entry is not None:
            self.app.push_screen(DiffScreen(self.session, self.tenant, history_id=entry.id))

    def action_close(self) -> None:
        self.dismiss(None)
