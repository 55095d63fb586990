"""The waves screen: each wave with its counts and whether it may be promoted, and a live
promotion view (per tenant: phase, elapsed, message) with halt.

`p` promotes the wave under the cursor after a confirmation naming the chart and Nextcloud
versions; the gates are checked again by the engine before anything moves. `F` promotes past
the gates after the wave number is typed (as `wave promote --force` asks), `c` toggles
continue-on-error, `s` runs the failed smoke checks that block the wave again. `h` halts:
running tenants finish, no new ones start. The blockers of the wave under the cursor are
listed, wrapped, under the table. The screen is installed once by the app, so a running
promotion outlives leaving it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.ops.history import change_summary
from ncconsole.ops.promotion import (
    GateRefused,
    Phase,
    PromotionOptions,
    PromotionReport,
    TenantProgress,
    WaveOverview,
    WavePromotion,
    WaveStatus,
    wave_overview,
)
from ncconsole.ops.promotion.model import FINISHED
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.ops.promotion.versions import promotion_change
from ncconsole.render.cells import revision_words
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession
from ncconsole.tui.screens import is_visible
from ncconsole.tui.screens.confirm import ConfirmScreen, TypedConfirmScreen
from ncconsole.tui.screens.smoke import SmokeScreen
from ncconsole.tui.widgets.table import Table

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp

WAVE_COLUMNS = (("wave", 5), ("tenants", 8), ("deployed", 18), ("at target", 10),
                ("synced", 8), ("healthy", 8), ("smoke", 7), ("step", 5),
                ("promote", 60))  # fmt: skip
PROGRESS_COLUMNS = (("tenant", 28), ("phase", 18), ("elapsed", 8), ("message", 70))
PHASE_STYLE = {Phase.DONE: "green", Phase.FAILED: "bold red", Phase.SKIPPED: "yellow",
               Phase.INTERRUPTED: "yellow", Phase.QUEUED: "dim"}  # fmt: skip
STRATEGY_EVERY = 10.0  # seconds between reads of the ApplicationSet's strategy
DETAIL_BLOCKERS = 6  # reasons listed under the table for the highlighted wave


def verdict(status: WaveStatus) -> Text:
    if status.settled:
        return Text("done: every tenant at the target", style="green")
    if status.promotable:
        return Text("yes (p to promote)", style="bold green")
    # The first reason; every one is listed, wrapped, under the table for the wave under the
    # cursor, so a narrow terminal cuts nothing that is not also shown whole.
    more = f" (+{len(status.blockers) - 1} more)" if len(status.blockers) > 1 else ""
    return Text(f"no{more}: {status.blockers[0]}", style="red")


def deployed_cell(status: WaveStatus) -> Text:
    """What the wave's tenants last synced to: "6.6.9@1f0c2ab", or the most common one
    and "+N" others."""
    counts = Counter(t.deployed for t in status.tenants if t.deployed)
    if not counts:
        return Text("–", style="dim")
    (key, _), *others = counts.most_common()
    return Text(revision_words(key) + (f" +{len(others)}" if others else ""))


def wave_cells(status: WaveStatus) -> list[Text]:
    n = len(status.tenants)
    return [
        Text(str(status.wave)), Text(str(n)), deployed_cell(status),
        Text(f"{status.count('at_target')}/{n}"),
        Text(f"{status.count('synced')}/{n}"), Text(status.health_summary()),
        Text(f"{status.smoke_passed}/{n}"), Text("-" if status.step is None else str(status.step)),
        verdict(status),
    ]  # fmt: skip


def progress_cells(p: TenantProgress) -> list[Text]:
    style = PHASE_STYLE.get(p.phase, "cyan")
    return [Text(p.tenant), Text(str(p.phase), style=style), Text(f"{p.elapsed:.0f}s"),
            Text(p.message)]  # fmt: skip


class WavesScreen(Screen[None]):
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    CSS_PATH = "waves.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("wave_promote", "promote"),
        bind("wave_halt", "halt"),
        bind("waves_refresh", "refresh"),
        bind("waves_more", "concurrency(1)"),
        bind("waves_fewer", "concurrency(-1)"),
        bind("waves_smoke", "smoke_again"),
        bind("waves_continue", "continue_on_error"),
        bind("wave_force", "force"),
    ]
    # Hidden (and refused) in read-only mode.
    CHANGING = ("promote", "halt", "concurrency", "continue_on_error", "force")

    def __init__(self, session: OpsSession) -> None:
        super().__init__()
        self.session = session
        self.concurrency = 4  # Applications synced at a time
        self.continue_on_error = False  # keep starting tenants after one failed
        self._placed = False  # the cursor was put on the first wave still to promote
        # The console's wave session once it is open: its strategy is read once and then
        # every STRATEGY_EVERY seconds while the screen shows.
        self.waves: WaveSession | None = None
        self.overview: WaveOverview | None = None
        self.promotion: WavePromotion | None = None
        self.progress: dict[str, TenantProgress] = {}
        self.report: PromotionReport | None = None
        self._closing_down = False
        self._strategy_error = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("waves", style="bold"), id="waves-title")
        yield Table(id="waves-table", cursor_type="row")
        yield Static("", id="waves-detail")
        yield Static("", id="waves-status")
        yield Table(id="waves-progress", cursor_type="row", show_cursor=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title_bar = self.query_one("#waves-title", Static)
        self.table = self.query_one("#waves-table", DataTable)
        self.status_line = self.query_one("#waves-status", Static)
        self.detail = self.query_one("#waves-detail", Static)
        self.progress_table = self.query_one("#waves-progress", DataTable)
        for label, width in WAVE_COLUMNS:
            self.table.add_column(label, key=label, width=width)
        for label, width in PROGRESS_COLUMNS:
            self.progress_table.add_column(label, key=label, width=width)
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self._tick)
        # RollingSync step statuses change as the controller works: read them again now and then.
        self.set_interval(STRATEGY_EVERY, self._reload_strategy)
        self.action_refresh()

    @property
    def running(self) -> bool:
        """A promotion is under way (until its report is in)."""
        return self.promotion is not None and self.report is None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: keys for what would be refused are hidden from the footer and the help
        # (and do nothing), as k9s does; ops/ refuses them anyway.
        read_only = self.app.settings.read_only
        return not (read_only and action in self.CHANGING)

    def stop_promotion(self) -> None:
        """The console is going away: follow nothing further, release the Lease."""
        self._closing_down = True
        if self.promotion is not None and self.report is None:
            self.promotion.interrupt()

    def on_unmount(self) -> None:
        self.stop_promotion()

    # -- the waves ------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._load_strategy(refresh=self.waves is not None)

    def _reload_strategy(self) -> None:
        if is_visible(self):
            self._load_strategy(refresh=True)

    class StrategyLoaded(Message):
        """The wave session read the owning ApplicationSet's strategy (when it opened, or
        again); `error` says why the session or the strategy could not be read."""

        def __init__(self, waves: WaveSession | None, error: str = "") -> None:
            super().__init__()
            self.waves = waves
            self.error = error

    @work(thread=True, exclusive=True, group="waves-strategy", exit_on_error=False)
    def _load_strategy(self, refresh: bool) -> None:
        """Open the console's wave session (which reads the strategy), or read it again."""
        waves = None
        try:
            waves = self.session.waves()
            if refresh:
                waves.refresh_strategy()
            self.post_message(self.StrategyLoaded(waves))
        except NcConsoleError as err:
            self.post_message(self.StrategyLoaded(waves, f"ApplicationSet: {err}"))

    def on_waves_screen_strategy_loaded(self, message: StrategyLoaded) -> None:
        if message.error and message.error != self._strategy_error:
            self.notify(message.error, severity="warning")
        self._strategy_error = message.error
        self.waves = message.waves
        self._show_snapshot(self.app.snapshot)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.app.snapshot)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        # The screen stays installed after it is left: skip the work then (~10 ms at 2,000
        # tenants) and catch up in on_screen_resume.
        if snapshot is None or not snapshot.complete or not is_visible(self):
            return
        if self.waves is not None:
            self.overview = self.waves.overview(snapshot=snapshot)
        else:  # no session (a fixed fleet, or the cluster unreadable): no strategy known
            self.overview = wave_overview(snapshot, self.session.settings, None)
        mode = "RollingSync" if self.overview.mode == "rolling_sync" else "manual"
        title = (
            f"waves — ApplicationSet {self.overview.appset} ({mode}), target revision "
            f"{revision_words(self.overview.target_revision)}, {self.concurrency} at a time (+/-)"
        )
        if self.continue_on_error:
            title += ", continue on error (c)"
        if self.overview.steps:
            title += "\nRollingSync steps: " + "; ".join(self.overview.steps)
        if self.overview.unmatched:
            title += f" — step -1 (never synced): {', '.join(self.overview.unmatched)}"
        self.title_bar.update(Text(title, style="bold"))
        with self.app.batch_update():
            seen = set()
            for status in self.overview.waves:
                key = str(status.wave)
                seen.add(key)
                cells = wave_cells(status)
                if key in self.table.rows:
                    for (label, _), cell in zip(WAVE_COLUMNS, cells, strict=True):
                        if self.table.get_cell(key, label) != cell:
                            self.table.update_cell(key, label, cell)
                else:
                    self.table.add_row(*cells, key=key)
            for key in [k.value for k in self.table.rows if k.value not in seen]:
                self.table.remove_row(key)
        if not self._placed and self.overview.waves:
            # Start on the next wave to promote: its blockers are what one came to read.
            self._placed = True
            upcoming = next((w for w in self.overview.waves if not w.settled), None)
            if upcoming is not None:
                self.select_wave(upcoming.wave)
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.table:
            self._show_detail()

    def _show_detail(self) -> None:
        """The highlighted wave's tenants and, when it may not be promoted, every reason."""
        status = self.selected_wave()
        if status is None:
            self.detail.update("")
            return
        text = Text(f"wave {status.wave}: ", style="bold")
        for i, row in enumerate(status.tenants):
            style = "green" if row.settled else "yellow" if row.exists else "red"
            text.append(("" if i == 0 else ", ") + row.tenant, style=style)
            if row.step is not None:  # RollingSync: the controller's view of this app
                text.append(f" (step {row.step}: {row.step_status or '?'})", style="dim")
        blockers = status.blockers if not status.settled else ()
        for blocker in blockers[:DETAIL_BLOCKERS]:
            text.append(f"\n  • {blocker}", style="red")
        if len(blockers) > DETAIL_BLOCKERS:
            text.append(f"\n  … and {len(blockers) - DETAIL_BLOCKERS} more", style="red")
        if any(b.smoke for b in blockers):
            text.append("\n  s: run the failed smoke checks again", style="bold")
        self.detail.update(text)

    def selected_wave(self) -> WaveStatus | None:
        if self.overview is None or not self.table.row_count:
            return None
        key = self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
        return self.overview.wave(int(key)) if key is not None else None

    def select_wave(self, wave: int) -> bool:
        if str(wave) not in self.table.rows:
            return False
        self.table.move_cursor(row=self.table.get_row_index(str(wave)))
        return True

    # -- promoting ------------------------------------------------------------------------
    def _promotable(self) -> WaveStatus | None:
        """The wave under the cursor if a promotion may be asked for (else say why)."""
        if self.running:
            self.notify("a promotion is running; halt it (h) or wait", severity="warning")
            return None
        status = self.selected_wave()
        if status is None:
            self.notify("no wave under the cursor", severity="warning")
            return None
        if status.settled:
            self.notify(f"wave {status.wave}: every tenant is already at the target")
            return None
        return status

    def _question(self, status: WaveStatus, force: bool) -> str:
        target = self.overview.target_revision if self.overview else ""
        snapshot = self.app.snapshot
        change = promotion_change(self.session.settings, snapshot, status, target)
        names = ", ".join(t.tenant for t in status.tenants[:8])
        more = " …" if len(status.tenants) > 8 else ""
        question = (
            f"Promote wave {status.wave}: {change}?\n\n"
            f"{len(status.tenants)} tenant(s): {names}{more}\n\n"
        )
        if force:
            listed = "; ".join(str(b) for b in status.blockers) or "none now"
            question += f"FORCED past the gates: {listed}\n"
        else:
            question += "The gates are checked again first; "
        question += "h halts (running tenants finish, no new ones start)."
        if self.continue_on_error:
            question += " Continue on error: a failed tenant does not stop the others."
        return question

    def action_promote(self) -> None:
        status = self._promotable()
        if status is None:
            return
        if status.blockers:
            listed = "\n".join(f"• {b}" for b in status.blockers[:8])
            self.notify(f"wave {status.wave} may not be promoted:\n{listed}\n(F forces)",
                        severity="error", timeout=15)  # fmt: skip
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(status.wave)

        self._ask_promote(status, False, answered)

    @work(thread=True, group="waves-question", exclusive=True, exit_on_error=False)
    def _ask_promote(
        self, status: WaveStatus, force: bool, answered: Callable[[bool | None], None]
    ) -> None:
        """The question, with what changes for the wave's first tenant (read from the local
        repo off the UI thread), e.g. "6.6.4 → 6.6.9, values: 2 lines in common.yaml"."""
        question = self._question(status, force)
        target = self.overview.target_revision if self.overview else ""
        first = status.tenants[0].tenant if status.tenants else ""
        if first:
            changes = change_summary(
                self.session.cluster().conn, self.session.settings, first, revision=target
            )
            question += f"\n\nChanges for {first}: {changes}"
        self.app.call_from_thread(self.app.push_screen, ConfirmScreen(question), answered)

    def action_force(self) -> None:
        """Promote past the gates, with the CLI's --force confirmation: type the wave number
        (or 'force'), then the usual yes/no naming what is forced past."""
        status = self._promotable()
        if status is None:
            return
        wave = status.wave

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(wave, force=True)

        def typed(ok: bool | None) -> None:
            if ok:
                self._ask_promote(status, True, confirmed)
            else:
                self.notify(f"force not confirmed: type {wave} or 'force'", severity="warning")

        prompt = f"Force skips the gates of wave {wave}. Type {wave} (or 'force') to go on."
        self.app.push_screen(TypedConfirmScreen(prompt, (str(wave), "force")), typed)

    def action_continue_on_error(self) -> None:
        self.continue_on_error = not self.continue_on_error
        state = "on" if self.continue_on_error else "off"
        self.notify(f"continue on error: {state} for the next promotion", timeout=3)
        self._show_snapshot(self.app.snapshot)

    def action_smoke_again(self) -> None:
        """Run again the smoke checks whose failed result blocks the wave under the cursor."""
        status = self.selected_wave()
        tenants = sorted({b.tenant for b in status.blockers if b.smoke}) if status else []
        if not tenants:
            self.notify("no failed smoke check blocks this wave", severity="warning")
            return
        label = f"blocking wave {status.wave}" if status else ""
        self.app.push_screen(SmokeScreen(self.session, tenants, label))

    def _start(self, wave: int, force: bool = False) -> None:
        self.report = None
        self.progress = {}
        self.progress_table.clear()
        self.status_line.update(Text(f"wave {wave}: checking the gates…", style="italic"))
        self._promote(wave, force)

    class Progressed(Message):
        """A tenant of the running promotion moved on (posted from the worker thread)."""

        def __init__(self, progress: TenantProgress) -> None:
            super().__init__()
            self.progress = progress

    class Finished(Message):
        """The promotion ended with `report`, or never started (`error`)."""

        def __init__(self, report: PromotionReport | None, error: str = "") -> None:
            super().__init__()
            self.report = report
            self.error = error

    # Messages, not call_from_thread: the worker must never block on a console that has quit.
    @work(thread=True, exclusive=True, group="promotion", exit_on_error=False)
    def _promote(self, wave: int, force: bool = False) -> None:
        try:
            self.promotion = self.session.waves().promotion(
                PromotionOptions(
                    wave=wave,
                    concurrency=self.concurrency,
                    force=force,
                    continue_on_error=self.continue_on_error,
                ),
                lambda p: self.post_message(self.Progressed(p)),
            )
            if self._closing_down:
                return
            report = self.promotion.run()
        except GateRefused as err:
            lines = [f"wave {wave} may not be promoted:", *(f"  • {b}" for b in err.blockers)]
            self.post_message(self.Finished(None, "\n".join(lines)))
            return
        except NcConsoleError as err:
            self.post_message(self.Finished(None, str(err)))
            return
        self.post_message(self.Finished(report))

    def on_waves_screen_progressed(self, message: Progressed) -> None:
        self._progressed(message.progress)

    def on_waves_screen_finished(self, message: Finished) -> None:
        if message.report is not None:
            self._finished(message.report)
        else:
            self._failed(message.error)

    def _progressed(self, p: TenantProgress) -> None:
        self.progress[p.tenant] = p
        cells = progress_cells(p)
        if p.tenant in self.progress_table.rows:
            for (label, _), cell in zip(PROGRESS_COLUMNS, cells, strict=True):
                self.progress_table.update_cell(p.tenant, label, cell)
        else:
            self.progress_table.add_row(*cells, key=p.tenant)
        self._summarise()

    def _summarise(self) -> None:
        if self.promotion is None:
            return
        done = sum(1 for p in self.progress.values() if p.phase == Phase.DONE)
        failed = sum(1 for p in self.progress.values() if p.phase == Phase.FAILED)
        total = len(self.promotion.progress) or len(self.progress)
        halting = ""
        if self.promotion.halted and self.report is None:
            halting = " — halting: running tenants finish, no new ones start"
        text = Text(f"promoting wave {self.promotion.options.wave}: {done}/{total} done")
        if failed:
            text.append(f", {failed} failed", style="bold red")
        text.append(halting, style="yellow")
        self.status_line.update(text)

    def _finished(self, report: PromotionReport) -> None:
        self.report = report
        style = "bold green" if report.exit_code == 0 else "bold red"
        self.status_line.update(
            Text(f"wave {report.wave}: {report.outcome} — {report.message}", style=style)
        )
        self._show_snapshot(self.app.snapshot)

    def _failed(self, message: str) -> None:
        self.report = None
        self.promotion = None
        self.status_line.update(Text(message, style="bold red"))

    def action_concurrency(self, step: int) -> None:
        """How many Applications the next promotion syncs at a time (1..16)."""
        self.concurrency = min(16, max(1, self.concurrency + step))
        self._show_snapshot(self.app.snapshot)

    def action_halt(self) -> None:
        if self.promotion is None or self.report is not None:
            self.notify("no promotion is running")
            return
        self.promotion.halt("halted from the console")
        self._summarise()

    def _tick(self) -> None:
        for p in self.progress.values():
            if p.phase not in FINISHED and p.tenant in self.progress_table.rows:
                self.progress_table.update_cell(p.tenant, "elapsed", Text(f"{p.elapsed:.0f}s"))
