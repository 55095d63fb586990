"""All of a tenant's Events (`e`): its namespace's and its Application's, newest first, with
the object and the whole message (wrapped, never cut); warnings highlighted. Read again every
few seconds while shown."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import EventView
from ncconsole.ops.inspect import tenant_events
from ncconsole.render import cells as fmt
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession

REFRESH_SECONDS = 5.0


def events_table(events: list[EventView], now: datetime) -> Table:
    table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
    for header in ("LAST", "TYPE", "REASON", "OBJECT", "COUNT"):
        table.add_column(header, no_wrap=True)
    table.add_column("MESSAGE", ratio=1, overflow="fold")
    for event in events:
        warning = event.type == "Warning"
        table.add_row(
            Text(fmt.age(now, event.last_seen)),
            Text(event.type, style=fmt.WARN if warning else ""),
            Text(event.reason, style=fmt.WARN if warning else ""),
            Text(f"{event.involved_kind.lower()}/{event.involved_name}"),
            Text(str(event.count)),
            Text(event.message, style=fmt.WARN if warning else ""),
        )
    return table


class EventsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("events_warnings", "toggle_warnings"),
        bind("events_reload", "reload"),
    ]
    DEFAULT_CSS = """
    EventsScreen #events-title { height: auto; padding: 0 1; }
    EventsScreen #events-scroll { height: 1fr; border: round $primary-darken-2; }
    """

    def __init__(self, session: OpsSession, tenant: str) -> None:
        super().__init__()
        self.session, self.tenant = session, tenant
        self.events: list[EventView] = []
        self.warnings_only = False
        self.problem = ""
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(id="events-title")
        with VerticalScroll(id="events-scroll"):
            yield Static(id="events-body")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#events-scroll", VerticalScroll).focus()
        self._show()
        self._load()
        self.set_interval(REFRESH_SECONDS, self._load)

    @work(thread=True, group="events", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            events = tenant_events(self.session.cluster().conn, self.session.settings, self.tenant)
            problem = ""
        except NcConsoleError as err:
            events, problem = self.events, str(err)
        self.app.call_from_thread(self._loaded, events, problem)

    def _loaded(self, events: list[EventView], problem: str) -> None:
        self.events, self.problem, self.loaded = events, problem, True
        self._show()

    def _show(self) -> None:
        shown = [e for e in self.events if e.type == "Warning" or not self.warnings_only]
        warnings = sum(1 for e in self.events if e.type == "Warning")
        title = Text(f"events · tenant {self.tenant}", style="bold")
        if self.loaded:
            title.append(f" · {len(self.events)} events, {warnings} warnings, newest first")
            if self.warnings_only:
                title.append(" · warnings only (w: all)", style="yellow")
        else:
            title.append(" · reading…")
        if self.problem:
            title.append(f"\n{self.problem}", style="red")
        self.query_one("#events-title", Static).update(title)
        body = self.query_one("#events-body", Static)
        if self.loaded and not shown:
            body.update(Text("no events", style=fmt.MUTED))
        else:
            body.update(events_table(shown, self.app.now()))  # type: ignore[attr-defined]

    def action_toggle_warnings(self) -> None:
        self.warnings_only = not self.warnings_only
        self._show()

    def action_reload(self) -> None:
        self._load()
