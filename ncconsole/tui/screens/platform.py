"""The shared platform (P, or `:platform`): PgBouncer's pools per tenant database, Redis INFO,
the alerts (platform-wide first), the silences (x expires the one under the cursor) and the
certificates that need a look, from the fleet's last reading; r reads again now.

Everything shown comes from the snapshot's platform reading (fleet/platform_poller.py): the
screen itself never waits for a component."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.platform.alertmanager import AlertsReading, Silence
from ncconsole.platform.reading import PlatformReading
from ncconsole.render import cells as fmt
from ncconsole.render.platform import (
    ago,
    alerts_lines,
    certificates_lines,
    pgbouncer_lines,
    redis_lines,
    verdict_text,
)
from ncconsole.tui.keys import bind
from ncconsole.tui.screens import is_visible
from ncconsole.tui.widgets.header import Banner, FleetHeader
from ncconsole.tui.widgets.panes import Pane
from ncconsole.tui.widgets.table import Table

SILENCE_COLUMNS = (("id", 10), ("state", 8), ("tenant", 28), ("ends", 8), ("matchers", 44),
                   ("comment", 40))  # fmt: skip


class PlatformScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("platform_read_now", "read_now"),
        bind("silence_expire", "expire"),
    ]
    DEFAULT_CSS = """
    PlatformScreen #platform-summary { height: auto; padding: 0 1; }
    PlatformScreen #platform-body { height: 1fr; }
    PlatformScreen #silences-box {
        border: round $primary 60%; height: auto; max-height: 14; padding: 0 1;
    }
    PlatformScreen #silences { height: auto; max-height: 10; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._silence_ids: list[str] = []
        self.silences: dict[str, Silence] = {}

    def compose(self) -> ComposeResult:
        yield FleetHeader()
        yield Banner()
        yield Static(id="platform-summary")
        with VerticalScroll(id="platform-body"):
            yield Pane("PgBouncer", id="pgbouncer")
            yield Pane("Redis", id="redis")
            yield Pane("Alerts", id="alerts")
            with Vertical(id="silences-box") as box:
                box.border_title = "Silences (x: expire)"
                yield Static(id="silences-note")
                yield Table(id="silences", cursor_type="row")
            yield Pane("Certificates", id="certificates")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table = self.query_one("#silences", Table)
        for label, width in SILENCE_COLUMNS:
            self.table.add_column(label.upper(), key=label, width=width)
        # The body scrolls from the top (focusing the table would scroll to the silences);
        # x acts on the silence under the table's cursor, tab moves into the table.
        self.query_one("#platform-body", VerticalScroll).focus()
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self.on_screen_resume)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.app.snapshot)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: the expire key is hidden and does nothing (ops/ refuses it anyway).
        read_only = self.app.settings.read_only  # type: ignore[attr-defined]
        return not (read_only and action == "expire")

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return
        if not self.query("#certificates"):  # just pushed: the panes are still being mounted
            self.call_after_refresh(self.on_screen_resume)
            return
        now = self.app.now()  # type: ignore[attr-defined]
        self.query_one(FleetHeader).show(snapshot, now)
        self.query_one(Banner).show(snapshot, now)
        reading = snapshot.platform_reading if snapshot else None
        summary = self.query_one("#platform-summary", Static)
        if reading is None:
            reads = self.app.reads_platform  # type: ignore[attr-defined]
            summary.update(
                Text(
                    "reading the platform…"
                    if reads
                    else "this console does not read the platform (a fixed fleet)",
                    style=fmt.MUTED,
                )
            )
            return
        summary.update(summary_text(reading, now))
        note = self.app.platform_note  # type: ignore[attr-defined]
        parts = (
            ("pgbouncer", reading.pgbouncer, pgbouncer_lines(reading.pgbouncer)),
            ("redis", reading.redis, redis_lines(reading.redis, now)),
            ("alerts", reading.alerts, alerts_lines(_platform_first(reading), now)),
            ("certificates", reading.certificates, certificates_lines(reading.certificates)),
        )
        for pane_id, component, lines in parts:
            if note and component.reason == "not configured":
                lines = [*lines, Text(f"  {note}", style=fmt.MUTED)]
            self.query_one(f"#{pane_id}", Pane).update(Group(*lines))
        self._show_silences(reading, now)

    def _show_silences(self, reading: PlatformReading, now: datetime) -> None:
        alerts = reading.alerts
        silences = [s for s in alerts.silences if s.state != "expired"]
        note = self.query_one("#silences-note", Static)
        words = f"Alertmanager: {alerts.reason}" if alerts.reason else ""
        words = words or ("" if silences else "no active silences")
        note.display = bool(words)
        note.update(Text(words, style=fmt.MUTED))
        ids = [s.id for s in silences]
        self.silences = {s.id: s for s in silences}
        rows = {
            s.id: (
                Text(s.id[:8]), Text(s.state), Text(s.tenant or "(no tenant)"),
                Text(ago(s.ends, now)), Text(s.matchers_text),
                Text(f"{s.comment} — {s.created_by}"),
            )
            for s in silences
        }  # fmt: skip
        cursor = self.selected_silence
        if ids != self._silence_ids:
            self.table.clear()
            for silence_id in ids:
                self.table.add_row(*rows[silence_id], key=silence_id)
            self._silence_ids = ids
            if cursor in ids:
                self.table.move_cursor(row=ids.index(cursor))
        else:
            for silence_id in ids:
                for (column, _), value in zip(SILENCE_COLUMNS, rows[silence_id], strict=True):
                    if self.table.get_cell(silence_id, column) != value:
                        self.table.update_cell(silence_id, column, value)

    @property
    def selected_silence(self) -> str | None:
        if not self._silence_ids or not self.table.is_valid_row_index(self.table.cursor_row):
            return None
        row_key, _ = self.table.coordinate_to_cell_key(self.table.cursor_coordinate)
        return row_key.value

    def action_read_now(self) -> None:
        self.app.read_platform_now()  # type: ignore[attr-defined]
        self.notify("reading the platform again…", timeout=2)

    def action_expire(self) -> None:
        silence = self.silences.get(self.selected_silence or "")
        if silence is None:
            self.notify("no silence under the cursor", severity="warning")
            return
        self.app.expire_silence(silence)  # type: ignore[attr-defined]


def summary_text(reading: PlatformReading, now: datetime) -> Text:
    text = Text("shared platform ", style="bold")
    text.append_text(verdict_text(reading.verdict))
    if reading.read_at is not None:
        text.append(
            f" · read {ago(reading.read_at, now)} in {reading.duration:.1f} s · r: read now",
            style=fmt.MUTED,
        )
    return text


def _platform_first(reading: PlatformReading) -> AlertsReading:
    """The alerts with the platform-wide ones (no tenant) first: they are everyone's."""
    alerts = reading.alerts
    ordered = sorted(alerts.alerts, key=lambda a: a.tenant is not None)
    return replace(alerts, alerts=tuple(ordered))
