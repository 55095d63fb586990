"""The console application: renders the snapshots a FleetSource publishes.

`make_app(source, settings)` is the one way to build it; `ncconsole` (no subcommand) passes the
live FleetState, the screenshot script and the snapshot tests a FixedFleetSource.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ncconsole.settings import Settings
from ncconsole.snapshot import FleetSnapshot
from ncconsole.tui.commands import FleetCommands
from ncconsole.tui.messages import SnapshotPublished
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.help import HelpScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.source import FleetSource
from ncconsole.tui.widgets.fleet_table import FleetTable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class NcConsoleApp(App[None]):
    TITLE = "ncconsole"
    CSS_PATH = ["app.tcss", "screens/fleet.tcss", "screens/tenant.tcss"]  # noqa: RUF012
    COMMANDS = App.COMMANDS | {FleetCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("colon,ctrl+p", "command_palette", "Commands", id="command_palette"),
    ]

    # The newest snapshot; screens watch it. Each published snapshot is a new object.
    snapshot: var[FleetSnapshot | None] = var(None, always_update=True)

    def __init__(self, source: FleetSource, settings: Settings, clock: Clock = utc_now) -> None:
        super().__init__()
        self.source = source
        self.settings = settings
        self._clock = clock
        self._unsubscribe: Callable[[], None] | None = None

    def now(self) -> datetime:
        return self._clock()

    def get_default_screen(self) -> Screen[None]:
        return FleetScreen()

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
            unknown = sorted(set(self.settings.keymap) - binding_ids())
            if unknown:
                self.notify(
                    f"keymap: no key has the id {', '.join(unknown)};"
                    f" ids are: {', '.join(sorted(binding_ids()))}",
                    title="config file",
                    severity="warning",
                    timeout=15,
                )
        self.snapshot = self.source.snapshot
        self._unsubscribe = self.source.subscribe(self._snapshot_published)
        self._start_source()

    def _snapshot_published(self, snapshot: FleetSnapshot) -> None:
        # Called on the source's thread: hand over to the app's loop as a message.
        self.post_message(SnapshotPublished(snapshot))

    def on_snapshot_published(self, message: SnapshotPublished) -> None:
        self.snapshot = message.snapshot

    def on_key(self, event: events.Key) -> None:
        # A key reaching the app although the focused widget would have taken it was queued
        # for the previous focus before "/" or ":" moved it (fast typing, a paste).
        focused = self.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            focused.post_message(events.Key(event.key, event.character))

    @work(thread=True, group="fleet-source", exit_on_error=False)
    def _start_source(self) -> None:
        self.source.start()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "fleet-source":
            self.notify(
                f"cannot watch the fleet: {event.worker.error}", severity="error", timeout=30
            )

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.source.stop()

    # --- actions later issues extend ------------------------------------------------------

    def open_tenant(self, name: str) -> None:
        """Show tenant `name`'s detail screen (replacing another tenant's detail)."""
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        if isinstance(self.screen, TenantScreen):
            if self.screen.tenant_name == name:
                return
            self.pop_screen()
        self.push_screen(TenantScreen(name))

    def show_fleet(self, query: str | None = None) -> None:
        """Back to the fleet screen, optionally filtered by `query`."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, FleetScreen):
            self.pop_screen()
        if query is not None and isinstance(self.screen, FleetScreen):
            self.screen.apply_filter(query)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def binding_ids() -> set[str]:
    """Every binding id the config file's `keymap` may name."""
    holders = (NcConsoleApp, FleetScreen, FleetTable, TenantScreen, HelpScreen)
    return {
        binding.id
        for holder in holders
        for binding in holder.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }


def make_app(source: FleetSource, settings: Settings, clock: Clock = utc_now) -> NcConsoleApp:
    """The console on `source`; `clock` gives "now" for the ages shown (frozen in pictures)."""
    return NcConsoleApp(source, settings, clock)
