"""Tenant detail (enter on a tenant): pods, Argo CD, S3, Nextcloud and events, live.

Always a full screen of its own, which is what 80x24 needs; esc goes back to the fleet.
R rolls the tenant back to the newest earlier revision in its Argo CD history (asked first,
then followed and smoke-checked like a promotion's tenant; ops/promotion/rollback.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.ops.promotion import RollbackPlan, TenantProgress, plan_rollback, run_rollback
from ncconsole.render.cells import revision_words
from ncconsole.tui.keys import bind
from ncconsole.tui.screens import is_visible
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.widgets import panes
from ncconsole.tui.widgets.header import Banner, FleetHeader

ROLLBACK_TIMEOUT = 600.0  # seconds, from the sync to Healthy

# Pane id -> what it shows of a TenantState.
PANES = (
    ("pods", panes.pods_view),
    ("argo", panes.argo_view),
    ("s3", panes.s3_view),
    ("nextcloud", panes.nextcloud_view),
    ("events", panes.events_view),
)

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp


class TenantScreen(Screen[None]):
    CSS_PATH = "tenant.tcss"
    if TYPE_CHECKING:  # the console's own app: its snapshot, settings, clock and actions

        @property
        def app(self) -> NcConsoleApp: ...

    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "app.pop_screen"),
        bind("cursor_down", "scroll_down"),
        bind("cursor_up", "scroll_up"),
        bind("tenant_rollback", "rollback"),
    ]

    def __init__(self, tenant_name: str) -> None:
        super().__init__()
        self.tenant_name = tenant_name
        self.rolling_back = False

    def compose(self) -> ComposeResult:
        yield FleetHeader()
        yield Banner()
        yield Static(id="tenant-summary")
        with VerticalScroll(id="tenant-body"):
            yield panes.Pane("Pods", id="pods")
            yield panes.Pane("Argo CD", id="argo")
            with Horizontal(id="probes"):
                yield panes.Pane("S3 bucket", id="s3")
                yield panes.Pane("Nextcloud", id="nextcloud")
            yield panes.Pane("Recent events", id="events")
        yield Static(id="tenant-action")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.body = self.query_one("#tenant-body", VerticalScroll)
        self.body.focus()
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.set_interval(1.0, self.on_screen_resume)

    def on_screen_resume(self) -> None:
        self._show_snapshot(self.app.snapshot)

    def _show_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        if not is_visible(self):
            return  # hidden under help: catch up in on_screen_resume
        now = self.app.now()
        self.query_one(FleetHeader).show(snapshot, now)
        self.query_one(Banner).show(snapshot, now)
        tenant = snapshot.tenant(self.tenant_name) if snapshot else None
        summary = self.query_one("#tenant-summary", Static)
        if tenant is None:
            summary.update(Text(f"tenant {self.tenant_name} is not in the fleet (any more)"))
            return
        summary.update(panes.summary_view(tenant))
        for pane_id, view in PANES:
            self.query_one(f"#{pane_id}", panes.Pane).update(view(tenant, now))

    def action_scroll_down(self) -> None:
        self.body.scroll_down()

    def action_scroll_up(self) -> None:
        self.body.scroll_up()

    # -- rolling back -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: the key is hidden and does nothing (ops/ would refuse it anyway).
        return not (action == "rollback" and self.app.settings.read_only)

    class RollbackPlanned(Message):
        """The rollback's plan was read (or could not be: `error`)."""

        def __init__(self, plan: RollbackPlan | None, error: str = "") -> None:
            super().__init__()
            self.plan = plan
            self.error = error

    class RollbackProgressed(Message):
        def __init__(self, progress: TenantProgress) -> None:
            super().__init__()
            self.progress = progress

    class RollbackFinished(Message):
        def __init__(self, progress: TenantProgress | None, error: str = "") -> None:
            super().__init__()
            self.progress = progress
            self.error = error

    def action_rollback(self) -> None:
        if self.rolling_back:
            self.notify("a rollback of this tenant is running", severity="warning")
            return
        self._action_line(f"{self.tenant_name}: reading the Argo CD history…", "italic")
        self._plan_rollback()

    @work(thread=True, exclusive=True, group="tenant-rollback-plan", exit_on_error=False)
    def _plan_rollback(self) -> None:
        try:
            cluster = self.app.ops.cluster()
            plan = plan_rollback(cluster.conn, cluster.settings, self.tenant_name)
        except NcConsoleError as err:
            self.post_message(self.RollbackPlanned(None, str(err)))
            return
        except Exception as err:  # a bug or an odd answer: say so instead of nothing
            self.post_message(self.RollbackPlanned(None, f"{type(err).__name__}: {err}"))
            return
        self.post_message(self.RollbackPlanned(plan))

    def on_tenant_screen_rollback_planned(self, message: RollbackPlanned) -> None:
        plan = message.plan
        if plan is None:
            self._action_line(f"rollback: {message.error}", "bold red")
            return
        self._action_line("")
        question = (
            f"{plan.describe()}?\n\nArgo CD syncs "
            f"{revision_words(plan.target_revision)} (chart version @ values commit); it is "
            "followed to Healthy and smoke-checked."
        )
        if plan.autosync:
            # Said before anything moves: auto-sync would undo it (argocd-server refuses too).
            question += f"\n\n⚠ {plan.autosync}. Yes rolls back anyway (forced); it will not last."

        def answered(yes: bool | None) -> None:
            if yes:
                self.rolling_back = True
                self._run_rollback(plan, bool(plan.autosync))

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, group="tenant-rollback", exit_on_error=False)
    def _run_rollback(self, plan: RollbackPlan, force: bool) -> None:
        try:
            cluster = self.app.ops.cluster()
            waves = self.app.ops.waves()
            progress = run_rollback(
                cluster.conn, cluster.settings, plan,
                run_smoke=waves.smoke(ignore=("argocd",)), confirmed=True,
                auditor=cluster.auditor, timeout=ROLLBACK_TIMEOUT, force=force,
                on_progress=lambda p: self.post_message(self.RollbackProgressed(p)),
            )  # fmt: skip
        except NcConsoleError as err:
            self.post_message(self.RollbackFinished(None, str(err)))
            return
        except Exception as err:  # a bug or an odd answer: say so instead of nothing
            self.post_message(self.RollbackFinished(None, f"{type(err).__name__}: {err}"))
            return
        self.post_message(self.RollbackFinished(progress))

    def on_tenant_screen_rollback_progressed(self, message: RollbackProgressed) -> None:
        p = message.progress
        self._action_line(f"rolling back {p.tenant}: {p.phase} — {p.message}", "cyan")

    def on_tenant_screen_rollback_finished(self, message: RollbackFinished) -> None:
        self.rolling_back = False
        p = message.progress
        if p is None:
            self._action_line(f"rollback refused: {message.error}", "bold red")
            return
        ok = str(p.phase) == "done"
        self._action_line(f"rollback {p.phase}: {p.message}", "bold green" if ok else "bold red")

    def _action_line(self, text: str, style: str = "") -> None:
        """The rollback's progress under the panes; takes no room while there is none."""
        line = self.query_one("#tenant-action", Static)
        line.update(Text(text, style=style))
        line.display = bool(text)
