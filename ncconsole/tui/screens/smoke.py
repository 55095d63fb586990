"""Smoke checks for a tenant or a wave: one row per check, the worst first per tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.ops.smoke import FAIL, PASS, SKIP, WARN, SmokeReport, run_smoke_checks
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession
from ncconsole.tui.widgets.table import Table

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp

STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}


class SmokeScreen(Screen[None]):
    CSS_PATH = "smoke.tcss"
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("smoke_rerun", "rerun"),
    ]

    def __init__(self, session: OpsSession, tenants: list[str], label: str = "") -> None:
        super().__init__()
        self.session = session
        self.tenants = tenants
        self.label = label or ", ".join(tenants)
        self.reports: dict[str, SmokeReport] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(f"smoke checks: {self.label}", style="bold"), id="smoke-title")
        yield Static("", id="smoke-summary")
        yield Table(id="smoke-results", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.summary = self.query_one("#smoke-summary", Static)
        self.table = self.query_one("#smoke-results", DataTable)
        for label, width in (("tenant", 28), ("check", 11), ("result", 6), ("time", 6),
                             ("message", 70)):  # fmt: skip
            self.table.add_column(label, key=label, width=width)
        self.action_rerun()

    def action_rerun(self) -> None:
        self.table.clear()
        self.reports.clear()
        self.summary.update(Text(f"checking {len(self.tenants)} tenant(s)…", style="italic"))
        self._run()

    @work(thread=True, exclusive=True, group="smoke", exit_on_error=False)
    def _run(self) -> None:
        snapshot = self.app.snapshot
        states = [s for n in self.tenants if snapshot and (s := snapshot.tenant(n)) is not None]
        try:
            run_smoke_checks(
                self.session.cluster().conn, self.session.settings, states,
                on_report=lambda report: self.app.call_from_thread(self._show, report),
                record=self.session.smoke_record,
            )  # fmt: skip
        except NcConsoleError as err:
            self.app.call_from_thread(self.summary.update, Text(str(err), style="red"))
            return
        self.app.call_from_thread(self._done)

    def _show(self, report: SmokeReport) -> None:
        self.reports[report.tenant] = report
        # The fleet rows show it at once; the record file is written when the run ends.
        self.session.note_smoke({report.tenant: report.outcome()})
        order = sorted(report.checks, key=lambda c: (c.status != FAIL, c.status != WARN))
        for i, check in enumerate(order):
            self.table.add_row(
                Text(report.tenant if i == 0 else "", style=STYLE[report.status]),
                Text(check.name), Text(check.status, style=STYLE[check.status]),
                Text(f"{check.duration:.2f}s", style="dim"), Text(check.message),
                key=f"{report.tenant}/{check.name}",
            )  # fmt: skip

    def _done(self) -> None:
        failed = [r.tenant for r in self.reports.values() if r.failed]
        if failed:
            text = Text(f"{len(failed)} of {len(self.reports)} failed: {', '.join(failed)}")
            text.stylize("bold red")
        else:
            text = Text(f"all {len(self.reports)} passed", style="bold green")
        self.summary.update(text)
