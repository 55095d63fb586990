"""The fixing keys of the tenant screen: restart, delete pod, sync, terminate, hard refresh,
rollback - and the views it opens (describe/YAML, events, history, diff).

Every change goes the same way: on a worker thread the preflight runs first (read-only mode,
then an access review naming verb, resource and namespace), so a refusal is said before any
question; then the plan and, for sync and rollback, what would change ("6.6.4 → 6.6.9,
values: 2 lines in common.yaml"); then the confirmation; then the action on a worker, its
progress on the screen's action line, its end as a notification. ops/ audits every step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.message import Message

from ncconsole.errors import NcConsoleError
from ncconsole.ops.history import tenant_diff
from ncconsole.ops.promotion.model import Phase, TenantProgress
from ncconsole.ops.promotion.rollback import RollbackPlan, plan_rollback, run_rollback
from ncconsole.ops.promotion.tenant_sync_command import plan_sync, run_sync
from ncconsole.ops.tenant_actions import (
    ActionResult,
    preflight,
    refresh,
    remove_pod,
    restart,
    running_operation,
    terminate,
)
from ncconsole.render.cells import revision_words
from ncconsole.tui.screens.confirm import ConfirmScreen

ROLLBACK_TIMEOUT = 600.0  # seconds, from the sync to Healthy

if TYPE_CHECKING:
    from textual.widgets import Static

    from ncconsole.tui.app import NcConsoleApp


class ActionProgressed(Message):
    """The running action moved on (posted from its worker thread)."""

    def __init__(self, text: str, *, final: bool = False, ok: bool = True) -> None:
        super().__init__()
        self.text, self.final, self.ok = text, final, ok


class TenantActions:
    """Mixed into TenantScreen (which provides tenant_name, selected_pod, action_line)."""

    tenant_name: str
    selected_pod: str | None
    action_line: Static
    running_action: str = ""
    if TYPE_CHECKING:
        app: NcConsoleApp

        def post_message(self, message: Message) -> bool: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...

    # -- views ----------------------------------------------------------------------------
    def action_inspect(self, mode: str) -> None:
        from ncconsole.tui.screens.inspect import ObjectScreen

        self.app.push_screen(
            ObjectScreen(
                self.app.ops, self.tenant_name, mode=mode, kind="pod", name=self.selected_pod or ""
            )
        )

    def action_events(self) -> None:
        from ncconsole.tui.screens.events import EventsScreen

        self.app.push_screen(EventsScreen(self.app.ops, self.tenant_name))

    def action_history(self, rollback: bool = False) -> None:
        from ncconsole.tui.screens.history import HistoryScreen

        def chosen(history_id: int | None) -> None:
            if history_id is not None:
                self._rollback_to(history_id)

        self.app.push_screen(
            HistoryScreen(self.app.ops, self.tenant_name, rollback=rollback), chosen
        )

    def action_rollback(self) -> None:
        self.action_history(rollback=True)

    def action_diff(self) -> None:
        from ncconsole.tui.screens.diff import DiffScreen

        self.app.push_screen(DiffScreen(self.app.ops, self.tenant_name))

    # -- the common flow ------------------------------------------------------------------
    def _begin(self, action: str) -> bool:
        if self.running_action:
            self.notify(f"{self.running_action} is still running; wait for it", severity="warning")
            return False
        return True

    def _ask(self, question: str, run: Callable[[], None]) -> None:
        """On the UI thread: ask, and start `run` (a worker) on yes."""

        def answered(yes: bool | None) -> None:
            if yes:
                run()

        self.app.push_screen(ConfirmScreen(question), answered)

    def _prepare(self, action: str, plan: Callable[[], str], run: Callable[[], None]) -> None:
        """Preflight and plan on a worker, then the question on the UI thread."""
        if not self._begin(action):
            return
        self._preparing(action, plan, run)

    @work(thread=True, group="tenant-prepare", exit_on_error=False)
    def _preparing(self, action: str, plan: Callable[[], str], run: Callable[[], None]) -> None:
        try:
            preflight(self.app.ops.cluster().conn, self.app.ops.settings, action, self.tenant_name)
            question = plan()
        except NcConsoleError as err:
            self.app.call_from_thread(
                self.notify, str(err), title=f"{action} refused", severity="error", timeout=15
            )
            return
        self.app.call_from_thread(self._ask, question, run)

    def _progress(self, action: str) -> Callable[[str], None]:
        def show(text: str) -> None:
            self.post_message(ActionProgressed(f"{action}: {text}"))

        return show

    def _ended(self, action: str, ok: bool, message: str) -> None:
        self.post_message(ActionProgressed(f"{action}: {message}", final=True, ok=ok))

    def _failed(self, action: str, err: Exception) -> None:
        self.post_message(ActionProgressed(f"{action}: {err}", final=True, ok=False))

    def on_action_progressed(self, message: ActionProgressed) -> None:
        style = "" if not message.final else ("green" if message.ok else "bold red")
        self.action_line.update(Text(message.text, style=style or "italic"))
        self.action_line.display = True  # takes no room until an action runs (80x24)
        if message.final:
            self.running_action = ""
            self.notify(
                message.text, severity="information" if message.ok else "error",
                timeout=8 if message.ok else 20,
            )  # fmt: skip
            for problem in self.app.ops.new_audit_problems():
                self.notify(problem, title="audit", severity="warning")

    def _start(self, action: str) -> None:
        self.running_action = action
        self.action_line.update(Text(f"{action}: starting…", style="italic"))
        self.action_line.display = True

    # -- restart --------------------------------------------------------------------------
    def action_restart(self) -> None:
        namespace = self.app.ops.settings.namespace_for(self.tenant_name)
        question = (
            f"Restart tenant {self.tenant_name}?\n\nA rollout restart of its Deployment in "
            f"{namespace}: a new ReplicaSet, every pod replaced (the chart's Recreate "
            "strategy: the tenant is down until the new pods are Ready)."
        )
        self._prepare("restart", lambda: question, self._run_restart)

    def _run_restart(self) -> None:
        self._start("restart")
        self._restarting()

    @work(thread=True, group="tenant-action", exit_on_error=False)
    def _restarting(self) -> None:
        ops, show = self.app.ops, self._progress("restart")
        try:
            result = restart(
                ops.cluster().conn, ops.settings, self.tenant_name, confirmed=True,
                auditor=ops.cluster().auditor, on_state=lambda s: show(s.message),
                cancel=self._cancel_event(),
            )  # fmt: skip
        except NcConsoleError as err:
            self._failed("restart", err)
            return
        self._result("restart", result)

    def _result(self, action: str, result: ActionResult) -> None:
        self._ended(action, result.ok, result.message)

    def _cancel_event(self) -> threading.Event:
        event = threading.Event()
        self._cancel = event
        return event

    # -- delete pod -----------------------------------------------------------------------
    def action_delete_pod(self) -> None:
        pod = self.selected_pod
        if not pod:
            self.notify("no pod selected (j/k select one)", severity="warning")
            return
        question = (
            f"Delete pod {pod}?\n\nIts ReplicaSet replaces it; the replacement is followed "
            "until it is Ready."
        )
        self._prepare("delete-pod", lambda: question, lambda: self._run_delete(pod))

    def _run_delete(self, pod: str) -> None:
        self._start("delete-pod")
        self._deleting(pod)

    @work(thread=True, group="tenant-action", exit_on_error=False)
    def _deleting(self, pod: str) -> None:
        ops, show = self.app.ops, self._progress(f"delete {pod}")

        def on_state(state: Any) -> None:  # a RolloutState
            show(state.message)

        try:
            result = remove_pod(
                ops.cluster().conn, ops.settings, self.tenant_name, pod, confirmed=True,
                auditor=ops.cluster().auditor, on_state=on_state, cancel=self._cancel_event(),
            )  # fmt: skip
        except NcConsoleError as err:
            self._failed(f"delete {pod}", err)
            return
        self._result(f"delete {pod}", result)

    # -- terminate and refresh --------------------------------------------------------------
    def action_terminate(self) -> None:
        def plan() -> str:
            ops = self.app.ops
            running = running_operation(ops.cluster().conn, ops.settings, self.tenant_name)
            return (
                f"Terminate the running Argo CD operation of {self.tenant_name}?\n\n{running}"
                "\n\nLike `argocd app terminate-op`: the phase goes Terminating and Argo CD "
                "ends it Failed."
            )

        self._prepare("terminate", plan, self._run_terminate)

    def _run_terminate(self) -> None:
        self._start("terminate")
        self._simple("terminate", terminate)

    def action_hard_refresh(self) -> None:
        question = (
            f"Hard-refresh the Application of {self.tenant_name}?\n\nArgo CD compares it with "
            "Git now and regenerates its manifests (no cache). Nothing is deployed."
        )
        self._prepare("refresh", lambda: question, self._run_refresh)

    def _run_refresh(self) -> None:
        self._start("refresh")
        self._simple("refresh", refresh)

    @work(thread=True, group="tenant-action", exit_on_error=False)
    def _simple(self, action: str, fn: Callable[..., ActionResult]) -> None:
        ops = self.app.ops
        try:
            result = fn(ops.cluster().conn, ops.settings, self.tenant_name, confirmed=True,
                        auditor=ops.cluster().auditor)  # fmt: skip
        except NcConsoleError as err:
            self._failed(action, err)
            return
        self._result(action, result)

    # -- sync -----------------------------------------------------------------------------
    def action_sync(self) -> None:
        state: dict[str, Any] = {}

        def plan() -> str:
            ops = self.app.ops
            conn = ops.cluster().conn
            sync_plan = plan_sync(conn, ops.settings, self.tenant_name)
            diff = tenant_diff(conn, ops.settings, self.tenant_name)
            state["plan"] = sync_plan
            lines = [f"Sync tenant {self.tenant_name}?", "", sync_plan.describe(),
                     f"changes: {diff.summary()}"]  # fmt: skip
            if sync_plan.busy:
                lines.append(f"⚠ {sync_plan.busy}: the request will be refused")
            if sync_plan.behind:
                lines += ["", "⚠ earlier waves do not run this yet (the CLI needs --force):",
                          *(f"  • {b}" for b in sync_plan.behind[:6]), "",
                          "Yes syncs anyway, ahead of the wave order."]  # fmt: skip
            return "\n".join(lines)

        self._prepare("sync", plan, lambda: self._run_sync(state["plan"]))

    def _run_sync(self, plan: Any) -> None:
        self._start("sync")
        self._syncing(plan)

    @work(thread=True, group="tenant-action", exit_on_error=False)
    def _syncing(self, plan: Any) -> None:
        ops, show = self.app.ops, self._progress("sync")
        try:
            smoke = ops.waves().smoke()
            result = run_sync(
                ops.cluster().conn, ops.settings, plan, confirmed=True, force=True,
                run_smoke=smoke, auditor=ops.cluster().auditor,
                on_progress=lambda p: show(f"{p.phase} {p.message}"),
            )  # fmt: skip
        except NcConsoleError as err:
            self._failed("sync", err)
            return
        self._progressed("sync", result)

    def _progressed(self, action: str, result: TenantProgress) -> None:
        self._ended(action, result.phase == Phase.DONE, f"{result.phase} - {result.message}")

    # -- rollback -------------------------------------------------------------------------
    def _rollback_to(self, history_id: int) -> None:
        state: dict[str, Any] = {}

        def plan() -> str:
            ops = self.app.ops
            conn = ops.cluster().conn
            rollback_plan = plan_rollback(conn, ops.settings, self.tenant_name, history_id)
            diff = tenant_diff(conn, ops.settings, self.tenant_name, history_id=history_id)
            state["plan"] = rollback_plan
            question = (
                f"Roll {self.tenant_name} back to history {history_id}?\n\n"
                f"{rollback_plan.describe()}\n"
                f"Argo CD syncs {revision_words(rollback_plan.target_revision)} (chart version "
                f"@ values commit)\nchanges: {diff.summary()}\n\nArgo CD will show it OutOfSync "
                "until Git changes too; the next promotion of its wave brings the target back."
            )
            if rollback_plan.autosync:
                # Said before anything moves: auto-sync would undo it (argocd-server refuses too).
                question += (
                    f"\n\n⚠ {rollback_plan.autosync}. Yes rolls back anyway (forced); "
                    "it will not last."
                )
            return question

        self._prepare("rollback", plan, lambda: self._run_rollback(state["plan"]))

    def _run_rollback(self, plan: RollbackPlan) -> None:
        self._start("rollback")
        self._rolling_back(plan)

    @work(thread=True, group="tenant-action", exit_on_error=False)
    def _rolling_back(self, plan: RollbackPlan) -> None:
        ops, show = self.app.ops, self._progress("rollback")
        try:
            smoke = ops.waves().smoke(ignore=("argocd",))
            result = run_rollback(
                ops.cluster().conn, ops.settings, plan, run_smoke=smoke, confirmed=True,
                auditor=ops.cluster().auditor, on_progress=lambda p: show(f"{p.phase} {p.message}"),
                timeout=ROLLBACK_TIMEOUT, force=bool(plan.autosync),
            )  # fmt: skip
        except NcConsoleError as err:
            self._failed("rollback", err)
            return
        self._progressed("rollback", result)
