"""Describe (`d`) and YAML (`y`) of a tenant's pods, Deployment, Application and Secret.

`tab`/`shift+tab` step through the objects, `d`/`y` switch the view, `m` shows or hides
managedFields, `/` searches (matches highlighted, `n`/`N` jump), `ctrl+r` reads again. What is
shown went through ops/inspect.clean: Secret values never appear, only their keys and sizes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import EventView
from ncconsole.ops.inspect import KINDS, TenantObject, clean, tenant_events, tenant_objects, to_yaml
from ncconsole.render.describe import describe
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession


class ObjectScreen(Screen[None]):
    CSS_PATH = "inspect.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "back"),
        bind("inspect_next", "step(1)"),
        bind("inspect_previous", "step(-1)"),
        bind("inspect_describe", "mode('describe')"),
        bind("inspect_yaml", "mode('yaml')"),
        bind("inspect_managed_fields", "toggle_managed"),
        bind("inspect_search", "search"),
        bind("inspect_next_match", "jump(1)"),
        bind("inspect_previous_match", "jump(-1)"),
        bind("inspect_reload", "reload"),
    ]

    def __init__(
        self, session: OpsSession, tenant: str, *, mode: str = "describe", kind: str = "pod",
        name: str = "",
    ) -> None:  # fmt: skip
        super().__init__()
        self.session, self.tenant = session, tenant
        self.mode, self.kind, self.object_name = mode, kind, name
        self.objects: list[TenantObject] = []
        self.events: list[EventView] = []
        self.index = 0
        self.managed_fields = False
        self.search = ""
        self.matches: list[int] = []
        self.match = 0
        self.text = ""
        self.problem = ""

    def compose(self) -> ComposeResult:
        yield Static(id="inspect-title")
        with VerticalScroll(id="inspect-scroll"):
            yield Static(id="inspect-body")
        yield Input(
            placeholder="search (enter; n/N next/previous; esc clears)", id="inspect-search"
        )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.scroller = self.query_one("#inspect-scroll", VerticalScroll)
        self.body = self.query_one("#inspect-body", Static)
        self.search_input = self.query_one("#inspect-search", Input)
        self.scroller.focus()
        self._show()
        self._load()

    @work(thread=True, group="inspect", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        conn = self.session.cluster().conn
        settings = self.session.settings
        found: list[TenantObject] = []
        problems = []
        for kind in KINDS:
            try:
                found += tenant_objects(conn, settings, self.tenant, kind)
            except NcConsoleError as err:
                problems.append(str(err))
        try:
            events = tenant_events(conn, settings, self.tenant)
        except NcConsoleError as err:
            events, problems = [], [*problems, str(err)]
        self.app.call_from_thread(self._loaded, found, events, "; ".join(problems))

    def _loaded(self, found: list[TenantObject], events: list[EventView], problem: str) -> None:
        current = self.objects[self.index] if self.objects else None
        self.objects, self.events, self.problem = found, events, problem
        wanted = (current.kind, current.name) if current else (self.kind, self.object_name)
        self.index = next(
            (i for i, o in enumerate(found) if (o.kind, o.name) == wanted),
            next((i for i, o in enumerate(found) if o.kind == wanted[0]), 0),
        )
        self._show()

    # -- drawing --------------------------------------------------------------------------
    def _show(self) -> None:
        title = Text(f"{self.mode} · tenant {self.tenant}", style="bold")
        if self.objects:
            target = self.objects[self.index]
            title.append(f" · {target.label} ({self.index + 1}/{len(self.objects)}, tab: next)")
            if target.kind == "secret":
                title.append(" · values hidden, keys only", style="yellow")
            if self.mode == "yaml":
                title.append(f" · managedFields {'shown' if self.managed_fields else 'hidden'}")
            if self.search:
                title.append(f" · '{self.search}': {len(self.matches)} lines", style="dim")
        else:
            title.append(" · reading…" if not self.problem else "")
        if self.problem:
            title.append(f"\n{self.problem}", style="red")
        self.query_one("#inspect-title", Static).update(title)
        if not self.objects:
            self.body.update("")
            return
        target = self.objects[self.index]
        if self.mode == "yaml":
            self.text = to_yaml(clean(target.raw, managed_fields=self.managed_fields))
        else:
            self.text = describe(target.kind, clean(target.raw), self.events)
        lines = self.text.splitlines()
        needle = self.search.lower()
        self.matches = [i for i, line in enumerate(lines) if needle and needle in line.lower()]
        self.match = min(self.match, max(0, len(self.matches) - 1))
        if self.mode == "yaml":
            shown: Syntax | Text = Syntax(
                self.text, "yaml", theme="ansi_dark", word_wrap=False,
                highlight_lines={i + 1 for i in self.matches}, background_color="default",
            )  # fmt: skip
        else:
            shown = Text(self.text)
            if self.search:
                shown.highlight_words([self.search], style="reverse", case_sensitive=False)
        self.body.update(shown)

    def _scroll_to_match(self) -> None:
        if self.matches:
            self.scroller.scroll_to(y=max(0, self.matches[self.match] - 2), animate=False)

    # -- keys -----------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.search:
            self.search = ""
            self.search_input.value = ""
            self.search_input.remove_class("-active")
            self._show()
            return
        self.app.pop_screen()

    def action_step(self, step: int) -> None:
        if self.objects:
            self.index = (self.index + step) % len(self.objects)
            self.scroller.scroll_home(animate=False)
            self._show()

    def action_mode(self, mode: str) -> None:
        self.mode = mode
        self._show()

    def action_toggle_managed(self) -> None:
        self.managed_fields = not self.managed_fields
        self._show()

    def action_reload(self) -> None:
        self._load()

    def action_search(self) -> None:
        self.search_input.add_class("-active")
        self.set_focus(self.search_input)

    @on(Input.Submitted, "#inspect-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self.search_input.set_class(bool(self.search), "-active")
        self.match = 0
        self.scroller.focus()
        self._show()
        self._scroll_to_match()

    def action_jump(self, step: int) -> None:
        if self.matches:
            self.match = (self.match + step) % len(self.matches)
            self._scroll_to_match()
