"""What a sync (`D`), or a rollback to a history entry, would change for a tenant: the chart
version and its values files (common, environment, tenant) between what is deployed and the
target, as a coloured unified diff from the local GitOps repository."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.errors import NcConsoleError
from ncconsole.gitops.values_diff import ValuesDiff
from ncconsole.ops.history import tenant_diff
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession


class DiffScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [bind("back", "app.pop_screen")]
    DEFAULT_CSS = """
    DiffScreen #diff-title { height: auto; padding: 0 1; }
    DiffScreen #diff-scroll { height: 1fr; border: round $primary-darken-2; }
    """

    def __init__(self, session: OpsSession, tenant: str, *, history_id: int | None = None) -> None:
        super().__init__()
        self.session, self.tenant, self.history_id = session, tenant, history_id
        self.diff: ValuesDiff | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title")
        with VerticalScroll(id="diff-scroll"):
            yield Static(id="diff-body")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#diff-scroll", VerticalScroll).focus()
        self._show(Text("reading…", style="dim"))
        self._load()

    def _what(self) -> str:
        if self.history_id is not None:
            return f"deployed → history {self.history_id} (a rollback)"
        return "deployed → the Application's target (a sync)"

    def _show(self, note: Text) -> None:
        title = Text(f"diff · tenant {self.tenant} · {self._what()}\n", style="bold")
        title.append_text(note)
        self.query_one("#diff-title", Static).update(title)

    @work(thread=True, group="diff", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            diff = tenant_diff(
                self.session.cluster().conn, self.session.settings, self.tenant,
                history_id=self.history_id,
            )  # fmt: skip
        except NcConsoleError as err:
            self.app.call_from_thread(self._show, Text(str(err), style="red"))
            return
        self.app.call_from_thread(self._loaded, diff)

    def _loaded(self, diff: ValuesDiff) -> None:
        self.diff = diff
        problem = bool(diff.problem)
        self._show(Text(diff.summary(), style="yellow" if problem else ""))
        body = self.query_one("#diff-body", Static)
        text = diff.unified()
        if text:
            body.update(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
        else:
            body.update(Text("no change in the values files", style="dim"))
