"""The audit trail of this machine's console actions, newest first."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.ops.audit import load_audit
from ncconsole.render.cells import local_time
from ncconsole.tui.keys import bind
from ncconsole.tui.widgets.table import Table


class AuditScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("audit_reload", "reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("audit trail", style="bold"), id="audit-title")
        yield Table(id="audit-table", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table = self.query_one("#audit-table", DataTable)
        for label, width in (("start", 27), ("who", 18), ("action", 14), ("target", 36),
                             ("result", 11), ("exit", 4), ("message", 60)):  # fmt: skip
            self.table.add_column(label, key=label, width=width)
        self.action_reload()

    def action_reload(self) -> None:
        try:
            trail = load_audit()
        except NcConsoleError as err:
            self.notify(str(err), severity="error")
            return
        entries = trail.entries
        self.table.clear()
        for i, entry in enumerate(reversed(entries)):
            who = entry.get("who") or {}
            result = str(entry.get("result", ""))
            code = entry.get("exit_code")
            self.table.add_row(
                Text(local_time(entry.get("start"))),
                Text(str(who.get("cluster_user") or who.get("os_user") or "?")),
                Text(str(entry.get("action", ""))), Text(str(entry.get("target", ""))),
                Text(result, style="green" if result in ("ok", "dry-run") else "red"),
                Text("" if code is None else str(code)), Text(str(entry.get("message", ""))),
                key=str(i),
            )  # fmt: skip
        title = f"audit trail · {len(entries)} action(s)"
        if trail.skipped:
            title += f" · {trail.problem()}"
        self.query_one("#audit-title", Static).update(Text(title, style="bold"))
