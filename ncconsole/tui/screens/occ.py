"""Run occ on one tenant (output streamed, exit-code badge) or on a wave (results table).

State-changing commands ask first; read-only mode refuses them (in ops/). Typed commands are
remembered per tenant (up/down browse them) and common commands complete as you type. After
`maintenance:mode --on` the console offers to silence the tenants' alerts.
"""

from __future__ import annotations

import shlex
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Input, RichLog, Static

from ncconsole.errors import NcConsoleError
from ncconsole.ops.guard import is_read_only_occ, reads_secret, tenant_permissions
from ncconsole.ops.occ import OccRun, end_problem, run_occ, run_occ_fleet
from ncconsole.ops.occ_secrets import carries_secret
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OccHistory, OpsSession
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.widgets.table import Table


def starts_maintenance(args: tuple[str, ...] | list[str]) -> bool:
    """`occ maintenance:mode --on`: the tenant's users are locked out on purpose."""
    return bool(args) and args[0] == "maintenance:mode" and "--on" in args[1:]


# Scrollback of the output pane: a command printing megabytes must not fill the memory.
OUTPUT_LINES = 5000

COMMON_COMMANDS = [
    "status", "status --output=json", "app:list", "app:list --output=json", "user:list",
    "config:system:get ", "background-job:list", "setupchecks", "check", "list",
    "maintenance:mode", "maintenance:mode --on", "maintenance:mode --off", "upgrade",
    "db:add-missing-indices", "app:enable ", "app:disable ", "files:object:orphans",
]  # fmt: skip


class OccScreen(Screen[None]):
    CSS_PATH = "occ.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("occ_stop", "stop"),
        bind("occ_history_previous", "history(-1)"),
        bind("occ_history_next", "history(1)"),
    ]

    def __init__(self, session: OpsSession, tenants: list[str], label: str = "") -> None:
        super().__init__()
        self.session = session
        self.tenants = tenants
        self.fleet = len(tenants) != 1
        self.label = label or (f"tenant {tenants[0]}" if tenants else "no tenants")
        self.history_key = self.label
        self.history = OccHistory()
        self._cursor: int | None = None
        self._partial = {"stdout": "", "stderr": ""}
        self.last_runs: list[OccRun] = []
        self._stop = False
        self._history_warned = False

    def compose(self) -> ComposeResult:
        mode = " (read-only: read commands only)" if self.session.settings.read_only else ""
        yield Static(Text(f"occ on {self.label}{mode}", style="bold"), id="occ-title")
        yield Input(
            placeholder="occ arguments, e.g. status --output=json",
            suggester=SuggestFromList(COMMON_COMMANDS, case_sensitive=False),
            id="occ-input",
        )
        yield Static("", id="occ-exit")
        if self.fleet:
            yield Table(id="occ-results", cursor_type="row")
        yield RichLog(
            id="occ-output", wrap=True, markup=False, highlight=False, max_lines=OUTPUT_LINES
        )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.output = self.query_one("#occ-output", RichLog)
        self.badge = self.query_one("#occ-exit", Static)
        if self.fleet:
            table = self.query_one("#occ-results", DataTable)
            for label, width in (("tenant", 30), ("exit", 5), ("duration", 9), ("first line", 60)):
                table.add_column(label, key=label, width=width)
        self.query_one("#occ-input", Input).focus()
        self._check_access()

    @work(thread=True, group="occ-access", exit_on_error=False)
    def _check_access(self) -> None:
        """Say up front when the cluster would refuse exec (SelfSubjectAccessReview)."""
        if not self.tenants:
            return
        try:
            problem = tenant_permissions(
                self.session.cluster().conn, self.session.settings, self.tenants[0]
            )["occ"]
        except NcConsoleError as err:
            problem = str(err)
        if problem:
            self.app.call_from_thread(self._refused, problem)

    def action_stop(self) -> None:
        self._stop = True

    # -- history ------------------------------------------------------------------------
    def action_history(self, step: int) -> None:
        entries = self.history.entries(self.history_key)
        if not entries:
            return
        index = len(entries) if self._cursor is None else self._cursor
        index = max(0, min(len(entries), index + step))
        self._cursor = index
        field = self.query_one("#occ-input", Input)
        field.value = entries[index] if index < len(entries) else ""
        field.cursor_position = len(field.value)

    # -- running ------------------------------------------------------------------------
    @on(Input.Submitted, "#occ-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        try:
            args = shlex.split(text)
        except ValueError as err:
            self.notify(f"cannot read the arguments: {err}", severity="error")
            return
        # Commands carrying a secret value stay off the disk.
        saved = carries_secret(args) or self.history.add(self.history_key, text)
        if not saved and not self._history_warned:
            self._history_warned = True  # once per screen, not per command
            self.notify(self.history.problem, severity="warning")
        self._cursor = None
        event.input.value = ""
        if not is_read_only_occ(args) and not self.session.settings.read_only:
            effect = "prints a secret (shown masked)" if reads_secret(args) else "may change state"
            question = f"occ {text} {effect} on {self.label}. Run it?"

            def answered(yes: bool | None) -> None:
                if yes:
                    self.start(args, confirmed=True)

            self.app.push_screen(ConfirmScreen(question), answered)
            return
        self.start(args, confirmed=False)

    def start(self, args: list[str], *, confirmed: bool) -> None:
        self.output.clear()
        self.output.write(Text(f"$ occ {shlex.join(args)}", style="bold"))
        self.badge.update(Text(" running… ", style="reverse"))
        if self.fleet:
            self.query_one("#occ-results", DataTable).clear()
        self._stop = False
        self._run(args, confirmed)

    @work(thread=True, exclusive=True, group="occ", exit_on_error=False)
    def _run(self, args: list[str], confirmed: bool) -> None:
        try:
            cluster = self.session.cluster()
            conn, auditor = cluster.conn, cluster.auditor
            settings = self.session.settings
            if self.fleet:
                runs = run_occ_fleet(
                    conn, settings, self.tenants, args, auditor=auditor, confirmed=confirmed,
                    on_result=lambda run: self.app.call_from_thread(self._add_result, run),
                    should_stop=lambda: self._stop,
                )  # fmt: skip
            else:
                runs = [
                    run_occ(
                        conn, settings, self.tenants[0], args, auditor=auditor,
                        confirmed=confirmed,
                        on_output=lambda s, t: self.app.call_from_thread(self._stream, s, t),
                        should_stop=lambda: self._stop,
                    )
                ]  # fmt: skip
        except NcConsoleError as err:
            self.app.call_from_thread(self._refused, str(err))
            return
        self.app.call_from_thread(self._finished, runs)

    def _stream(self, channel: str, text: str) -> None:
        lines = (self._partial[channel] + text).split("\n")
        self._partial[channel] = lines.pop()
        style = "red" if channel == "stderr" else ""
        for line in lines:
            self.output.write(Text(line, style=style))

    def _add_result(self, run: OccRun) -> None:
        code = "-" if run.exit_code is None else str(run.exit_code)
        self.query_one("#occ-results", DataTable).add_row(
            Text(run.tenant), Text(code, style="green" if run.ok else "red"),
            Text(f"{run.duration:.1f}s"), Text(run.first_line[:100]), key=run.tenant,
        )  # fmt: skip

    def _finished(self, runs: list[OccRun]) -> None:
        for problem in self.session.new_audit_problems():
            self.notify(problem, title="audit", severity="warning", timeout=20)
        for channel, rest in self._partial.items():
            if rest:
                self.output.write(Text(rest, style="red" if channel == "stderr" else ""))
            self._partial[channel] = ""
        self.last_runs = runs
        self._offer_silence(runs)
        if self.fleet:
            failed = sum(not r.ok for r in runs)
            style = "on red" if failed else "on green"
            self.badge.update(Text(f" {len(runs) - failed}/{len(runs)} exit 0 ", style=style))
            return
        run = runs[0]
        if run.timed_out:
            word = "stopped" if self._stop else "timed out"
            self.badge.update(Text(f" {word} ", style="on red"))
        else:
            style = "on green" if run.exit_code == 0 else "on red"
            code = "?" if run.exit_code is None else run.exit_code
            self.badge.update(Text(f" exit {code} ", style=style))
            problem = end_problem(run)
            if problem:
                self.output.write(Text(f"⚠ {problem}", style="bold red"))

    def _offer_silence(self, runs: list[OccRun]) -> None:
        """A tenant just put into maintenance will raise alerts nobody needs to hear about:
        offer to silence them (the dialog says for how long and why; esc declines)."""
        settings = self.session.settings
        tenants = [run.tenant for run in runs if run.ok and starts_maintenance(run.args)]
        if not tenants or settings.read_only or not settings.platform.alertmanager.configured:
            return
        who = f"tenant {tenants[0]}" if len(tenants) == 1 else f"{len(tenants)} tenants"
        self.app.offer_silence(  # type: ignore[attr-defined]
            tenants,
            heading=f"{who} in maintenance mode now.",
            comment="maintenance (occ maintenance:mode --on)",
        )

    def _refused(self, message: str) -> None:
        self.badge.update(Text(" refused ", style="on red"))
        self.output.write(Text(message, style="red"))
