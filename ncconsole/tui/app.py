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

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.settings import Settings
from ncconsole.tui.commands import FleetCommands
from ncconsole.tui.keymap_check import keymap_conflicts
from ncconsole.tui.messages import SnapshotPublished
from ncconsole.tui.ops_session import OpsSession
from ncconsole.tui.screens.audit import AuditScreen
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.help import HelpScreen
from ncconsole.tui.screens.occ import OccScreen
from ncconsole.tui.screens.smoke import SmokeScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.screens.waves import WavesScreen
from ncconsole.tui.source import FleetSource
from ncconsole.tui.widgets.fleet_table import FleetTable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class NcConsoleApp(App[None]):
    TITLE = "ncconsole"
    CSS_PATH = [  # noqa: RUF012
        "app.tcss", "screens/fleet.tcss", "screens/tenant.tcss", "screens/occ.tcss",
        "screens/smoke.tcss",
    ]  # fmt: skip
    COMMANDS = App.COMMANDS | {FleetCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("colon,ctrl+p", "command_palette", "Commands", id="command_palette"),
        # Tenant actions, on the fleet (cursor tenant) and tenant screens; upper case = its wave.
        Binding("o", "occ(False)", "occ", id="occ", show=False),
        Binding("O", "occ(True)", "occ wave", id="occ_wave", show=False),
        Binding("s", "smoke(False)", "Smoke", id="smoke", show=False),
        Binding("S", "smoke(True)", "Smoke wave", id="smoke_wave", show=False),
        Binding("A", "audit", "Audit", id="audit", show=False),
        Binding("w", "waves", "Waves", id="waves", show=False),
    ]

    # The newest snapshot; screens watch it. Each published snapshot is a new object.
    snapshot: var[FleetSnapshot | None] = var(None, always_update=True)

    def __init__(self, source: FleetSource, settings: Settings, clock: Clock = utc_now) -> None:
        super().__init__()
        self.source = source
        self.settings = settings
        self._clock = clock
        self._unsubscribe: Callable[[], None] | None = None
        self.ops = OpsSession(settings, source)

    def now(self) -> datetime:
        return self._clock()

    def get_default_screen(self) -> Screen[None]:
        return FleetScreen()

    def on_mount(self) -> None:
        for warning in self.settings.warnings:
            self.notify(warning, title="settings", severity="warning", timeout=30)
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
            for problem in keymap_conflicts(self.settings.keymap, self.BINDINGS, binding_scopes()):
                self.notify(problem, title="config file", severity="warning", timeout=30)
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
        self.ops.close()
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

    def selected_tenant(self) -> str | None:
        """The tenant under the fleet cursor, or the one whose detail is shown."""
        if isinstance(self.screen, TenantScreen):
            return self.screen.tenant_name
        if isinstance(self.screen, FleetScreen):
            return self.screen.table.cursor_tenant
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("occ", "smoke"):
            return isinstance(self.screen, FleetScreen | TenantScreen)
        return True

    def wave_tenants(self, tenant: str) -> tuple[list[str], str]:
        """Every tenant in `tenant`'s wave, and a label for it."""
        snapshot = self.snapshot
        state = snapshot.tenant(tenant) if snapshot else None
        if snapshot is None or state is None or state.wave is None:
            return [tenant], f"tenant {tenant}"
        names = sorted(t.name for t in snapshot.tenants if t.wave == state.wave and t.in_repo)
        return names, f"wave {state.wave} ({len(names)} tenants)"

    def action_occ(self, wave: bool = False, tenant: str | None = None) -> None:
        tenant = tenant or self.selected_tenant()
        if tenant is None:
            self.notify("put the cursor on a tenant first", severity="warning")
            return
        names, label = self.wave_tenants(tenant) if wave else ([tenant], f"tenant {tenant}")
        self.push_screen(OccScreen(self.ops, names, label))

    def action_smoke(self, wave: bool = False, tenant: str | None = None) -> None:
        tenant = tenant or self.selected_tenant()
        if tenant is None:
            self.notify("put the cursor on a tenant first", severity="warning")
            return
        names, label = self.wave_tenants(tenant) if wave else ([tenant], f"tenant {tenant}")
        self.push_screen(SmokeScreen(self.ops, names, label))

    def action_audit(self) -> None:
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def action_waves(self) -> None:
        """The waves screen; installed once so a running promotion outlives leaving it."""
        if not self.is_screen_installed("waves"):
            self.install_screen(WavesScreen(self.ops), "waves")
        if not isinstance(self.screen, WavesScreen):
            self.push_screen("waves")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def binding_ids() -> set[str]:
    """Every binding id the config file's `keymap` may name."""
    holders = (
        NcConsoleApp, FleetScreen, FleetTable, TenantScreen, HelpScreen, OccScreen, SmokeScreen,
        AuditScreen, WavesScreen,
    )  # fmt: skip
    return {
        binding.id
        for holder in holders
        for binding in holder.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }


def binding_scopes() -> dict[str, list[BindingType]]:
    """The bindings active together, per screen (the app's own are added by the checker)."""
    return {
        "fleet screen": [*FleetScreen.BINDINGS, *FleetTable.BINDINGS],
        "tenant screen": list(TenantScreen.BINDINGS),
        "help screen": list(HelpScreen.BINDINGS),
        "occ screen": list(OccScreen.BINDINGS),
        "smoke screen": list(SmokeScreen.BINDINGS),
        "audit screen": list(AuditScreen.BINDINGS),
        "waves screen": list(WavesScreen.BINDINGS),
    }


def make_app(source: FleetSource, settings: Settings, clock: Clock = utc_now) -> NcConsoleApp:
    """The console on `source`; `clock` gives "now" for the ages shown (frozen in pictures)."""
    return NcConsoleApp(source, settings, clock)
