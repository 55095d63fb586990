"""The console application: renders the snapshots a FleetSource publishes.

`make_app(source, settings)` is the one way to build it; `ncconsole` (no subcommand) passes the
live FleetState and an opener for switching cluster (`:ctx`), the screenshot script and the
snapshot tests a FixedFleetSource.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.settings import Settings
from ncconsole.tui.commands import FleetCommands
from ncconsole.tui.crash_guard import CrashGuard
from ncconsole.tui.keymap_check import keymap_conflicts
from ncconsole.tui.keys import bind, binding_ids
from ncconsole.tui.messages import ClusterOpened, SnapshotPublished
from ncconsole.tui.ops_session import OpsSession
from ncconsole.tui.platform_actions import PlatformActions
from ncconsole.tui.screens.audit import AuditScreen
from ncconsole.tui.screens.copy import CopyScreen, copy_choices
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.help import HelpScreen
from ncconsole.tui.screens.logs import LogScreen
from ncconsole.tui.screens.occ import OccScreen
from ncconsole.tui.screens.platform import PlatformScreen
from ncconsole.tui.screens.silence import SilenceScreen
from ncconsole.tui.screens.smoke import SmokeScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.screens.waves import WavesScreen
from ncconsole.tui.source import FleetOpener, FleetSource
from ncconsole.tui.theme import apply_theme, initial_theme, install_readable_no_color
from ncconsole.tui.widgets.fleet_table import FleetTable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class NcConsoleApp(PlatformActions, App[None]):
    TITLE = "ncconsole"
    CSS_PATH = "app.tcss"  # each screen carries its own (screens/*.tcss)
    COMMANDS = App.COMMANDS | {FleetCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("quit", "quit"),
        bind("help", "help"),
        bind("command_palette", "command_palette"),
        # Tenant actions, on the fleet (cursor tenant) and tenant screens; upper case = its wave.
        bind("occ", "occ(False)"),
        bind("occ_wave", "occ(True)"),
        bind("smoke", "smoke(False)"),
        bind("smoke_wave", "smoke(True)"),
        bind("audit", "audit"),
        bind("logs", "logs(False)"),
        bind("logs_previous_run", "logs(True)"),
        bind("copy", "copy"),
        bind("waves", "waves"),
        bind("platform", "platform"),
        bind("silence", "silence"),
    ]

    # The newest snapshot; screens watch it. Each published snapshot is a new object.
    snapshot: var[FleetSnapshot | None] = var(None, always_update=True)

    def __init__(
        self,
        source: FleetSource,
        settings: Settings,
        clock: Clock = utc_now,
        opener: FleetOpener | None = None,
        platform_note: str = "",
    ) -> None:
        super().__init__()
        self.source = source
        self.settings = settings
        self.opener = opener
        self.platform_note = platform_note
        self._clock = clock
        self._unsubscribe: Callable[[], None] | None = None
        self.ops = OpsSession(settings, source)
        self.theme_name = initial_theme(settings)
        apply_theme(self, self.theme_name)
        if self.no_color:
            install_readable_no_color(self)
        self.crash_guard = CrashGuard(self)

    def now(self) -> datetime:
        return self._clock()

    # The fleet screen as the default mode, not get_default_screen(): Textual loads a screen's
    # own CSS_PATH (screens/fleet.tcss: the hidden filter input, the no-match line) for a
    # mode's screen and pushed ones, but not for the one get_default_screen() returns.
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {"fleet": FleetScreen}
    DEFAULT_MODE = "fleet"

    def _handle_exception(self, error: Exception) -> None:
        # Textual's hook for every unhandled exception; see tui/crash_guard.py.
        if not self.crash_guard.recover(error):
            super()._handle_exception(error)

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        # Key bindings and palette commands run actions in the app's own message loop, which
        # Textual stops on an exception; catch it here, where the screen is known.
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:
            if not self.crash_guard.recover(error, origin=namespace):
                raise
            return True

    @property
    def exit_code(self) -> int:
        """The process's exit code after the app ended: non-zero after a crash."""
        return self.return_code or (1 if self.crash_guard.crashed else 0)

    def get_default_screen(self) -> Screen[None]:
        # Only the crash guard asks for one (a fresh fleet screen pushed over a stopped one);
        # the console starts on MODES' fleet screen.
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
        self._watch_source()

    def _watch_source(self) -> None:
        source = self.source
        self.snapshot = source.snapshot

        def published(snapshot: FleetSnapshot) -> None:
            # Called on the source's thread: hand over to the app's loop as a message.
            self.post_message(SnapshotPublished(snapshot, source))

        self._unsubscribe = source.subscribe(published)
        self._start_source()

    def on_snapshot_published(self, message: SnapshotPublished) -> None:
        if message.source is None or message.source is self.source:
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

    # --- switching cluster (`:ctx`) -------------------------------------------------------

    def promotion_running(self) -> bool:
        if not self.is_screen_installed("waves"):
            return False
        waves = self.get_screen("waves")
        return isinstance(waves, WavesScreen) and waves.running

    def switch_cluster(self, profile: str | None = None, context: str | None = None) -> None:
        """Watch another profile's cluster, or another context, without leaving the console."""
        if self.opener is None:
            self.notify("this console shows a fixed fleet; it cannot switch cluster")
            return
        if self.promotion_running():
            self.notify(
                "a wave promotion is running; halt it or let it finish before switching cluster",
                severity="warning",
            )
            return
        label = f"profile {profile}" if profile is not None else f"context {context}"
        self.notify(f"connecting to {label}…", timeout=3)
        self._open_cluster(profile, context, label)

    @work(thread=True, exclusive=True, group="cluster-switch", exit_on_error=False)
    def _open_cluster(self, profile: str | None, context: str | None, label: str) -> None:
        assert self.opener is not None
        try:
            settings = self.opener.settings_for(self.settings, profile, context)
            source = self.opener.open(settings)
        except NcConsoleError as err:
            self.call_from_thread(
                self.notify, f"cannot switch to {label}: {err}", severity="error", timeout=15
            )
            return
        self.post_message(ClusterOpened(settings, source, label))

    def on_cluster_opened(self, message: ClusterOpened) -> None:
        if self.promotion_running():  # started while connecting
            self.notify(f"not switched to {message.label}: a promotion started", severity="error")
            return
        old = self.source
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.show_fleet("")
        if self.is_screen_installed("waves"):
            self.uninstall_screen("waves")
        self.source, self.settings = message.source, message.settings
        self.platform_note = ""  # it described the cluster left behind
        self.ops.close()
        self.ops = OpsSession(message.settings, message.source)
        self._stop_old_source(old)
        self._watch_source()
        self.notify(f"switched to {message.label}", timeout=4)

    @work(thread=True, group="fleet-source-stop", exit_on_error=False)
    def _stop_old_source(self, source: FleetSource) -> None:
        source.stop()

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

    def tenant_action(self, tenant: str, action: str) -> None:
        """Run one of the tenant screen's actions (by its action name) on `tenant`, opening
        its detail first (from the command palette)."""
        if action in ("logs", "previous_logs"):
            self.action_logs(action == "previous_logs", tenant)
            return
        if action == "copy":
            self.action_copy(tenant)
            return
        self.open_tenant(tenant)
        screen = self.screen
        self.call_after_refresh(screen.run_action, action)

    def show_fleet(self, query: str | None = None) -> None:
        """Back to the fleet screen, optionally filtered by `query`."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, FleetScreen):
            self.pop_screen()
        if query is not None and isinstance(self.screen, FleetScreen):
            self.screen.apply_filter(query)

    def selected_tenant(self) -> str | None:
        """The tenant under the fleet cursor, or the one whose detail is shown (under a modal
        such as the command palette: the screen beneath it)."""
        screen = next((s for s in reversed(self.screen_stack) if not s.is_modal), self.screen)
        if isinstance(screen, TenantScreen):
            return screen.tenant_name
        if isinstance(screen, FleetScreen):
            return screen.table.cursor_tenant
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("occ", "smoke", "logs", "copy"):
            return isinstance(self.screen, FleetScreen | TenantScreen)
        if action == "silence":  # hidden in read-only mode (ops/ refuses it anyway)
            return (
                isinstance(self.screen, FleetScreen | TenantScreen) and not self.settings.read_only
            )
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

    def action_logs(self, previous: bool = False, tenant: str | None = None) -> None:
        tenant = tenant or self.selected_tenant()
        if tenant is None:
            self.notify("put the cursor on a tenant first", severity="warning")
            return
        self.push_screen(LogScreen(self.ops, tenant, previous=previous))

    def action_copy(self, tenant: str | None = None) -> None:
        """Choose a name or value of the tenant and copy it to the clipboard (OSC 52)."""
        tenant = tenant or self.selected_tenant()
        state = self.snapshot.tenant(tenant) if self.snapshot and tenant else None
        if state is None:
            self.notify("put the cursor on a tenant first", severity="warning")
            return
        selected = getattr(self.screen, "selected_pod", None)

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            what, value = choice
            self.copy_to_clipboard(value)
            self.notify(f"copied {what}: {value}", title="clipboard (OSC 52)")

        self.push_screen(CopyScreen(state.name, copy_choices(state, selected)), chosen)

    def action_audit(self) -> None:
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def action_waves(self) -> None:
        """The waves screen; installed once so a running promotion outlives leaving it."""
        if not self.is_screen_installed("waves"):
            self.install_screen(WavesScreen(self.ops), "waves")
        if not isinstance(self.screen, WavesScreen):
            self.push_screen("waves")

    def switch_theme(self, name: str) -> None:
        """Another theme for the cells and widgets; screens repaint their rows."""
        self.theme_name = name
        apply_theme(self, name)
        for screen in self.screen_stack:
            repaint = getattr(screen, "repaint", None)
            if repaint is not None:
                repaint()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def binding_scopes() -> dict[str, list[BindingType]]:
    """The bindings active together, per screen (the app's own are added by the checker)."""
    from ncconsole.tui.screens.diff import DiffScreen
    from ncconsole.tui.screens.events import EventsScreen
    from ncconsole.tui.screens.history import HistoryScreen
    from ncconsole.tui.screens.inspect import ObjectScreen

    return {
        "fleet screen": [*FleetScreen.BINDINGS, *FleetTable.BINDINGS],
        "tenant screen": list(TenantScreen.BINDINGS),
        "help screen": list(HelpScreen.BINDINGS),
        "occ screen": list(OccScreen.BINDINGS),
        "smoke screen": list(SmokeScreen.BINDINGS),
        "audit screen": list(AuditScreen.BINDINGS),
        "waves screen": list(WavesScreen.BINDINGS),
        "platform screen": list(PlatformScreen.BINDINGS),
        "silence dialog": list(SilenceScreen.BINDINGS),
        "log screen": list(LogScreen.BINDINGS),
        "describe/YAML screen": list(ObjectScreen.BINDINGS),
        "events screen": list(EventsScreen.BINDINGS),
        "history screen": list(HistoryScreen.BINDINGS),
        "diff screen": list(DiffScreen.BINDINGS),
        "copy screen": list(CopyScreen.BINDINGS),
    }


def make_app(
    source: FleetSource,
    settings: Settings,
    clock: Clock = utc_now,
    opener: FleetOpener | None = None,
    platform_note: str = "",
) -> NcConsoleApp:
    """The console on `source`; `clock` gives "now" for the ages shown (frozen in pictures);
    `opener` lets it switch cluster (`:ctx`); `platform_note` is said instead of "not
    configured" for the platform components this setup leaves out (the demo's)."""
    return NcConsoleApp(source, settings, clock, opener, platform_note)
