"""A tenant's pod logs (`l`; `p` for the previous, crashed run): every Nextcloud pod
interleaved by time with the pod in front, followed live.

The screen keeps its own bounded buffer (setting `logs.scrollback`) and draws the log widget
from it, so pausing, wrapping, time stamps and search only redraw, never re-read. Search
(`/`) keeps the matching lines, as k9s's log filter does, with the matches highlighted.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from ncconsole.errors import NcConsoleError
from ncconsole.ops.logs import LogLine, LogOptions, TenantLogFollower, read_tenant_logs, tenant_pods
from ncconsole.tui.keys import bind
from ncconsole.tui.ops_session import OpsSession

POD_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_cyan", "bright_magenta")


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few values (a container, a pod); esc keeps the current one."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen OptionList { width: 70; height: auto; max-height: 20; border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [bind("choice_back", "dismiss_none")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        options = OptionList(*(Option(label, id=value) for value, label in self.choices))
        options.border_title = self.title_text
        yield options

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class LogScreen(Screen[None]):
    CSS_PATH = "logs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("back", "back"),
        bind("logs_follow", "toggle_follow"),
        bind("logs_previous", "toggle_previous"),
        bind("logs_container", "choose_container"),
        bind("logs_pod", "choose_pod"),
        bind("logs_wrap", "toggle_wrap"),
        bind("logs_timestamps", "toggle_timestamps"),
        bind("logs_search", "search"),
        bind("logs_top", "top"),
        bind("logs_bottom", "bottom"),
    ]

    class LinesArrived(Message):
        """New lines wait in the screen's inbox (posted once per batch, from any thread)."""

    class StatusChanged(Message):
        def __init__(self, text: str, *, error: bool = False) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(
        self, session: OpsSession, tenant: str, *, previous: bool = False, pod: str = ""
    ) -> None:
        super().__init__()
        self.session, self.tenant = session, tenant
        settings = session.settings
        self.scrollback = settings.logs.scrollback
        self.previous = previous
        self.container = "nextcloud"
        self.pod = pod  # "" = every pod
        self.following = True
        # Wrapped by default: a crash's cause is at the end of a long line (w: no wrap).
        self.wrap = True
        self.timestamps = False
        self.search = ""
        self.status = "reading…"
        self.buffer: deque[LogLine] = deque(maxlen=self.scrollback)
        self.pending = 0  # lines arrived while paused
        self._inbox: list[LogLine] = []
        self._inbox_lock = threading.Lock()
        self._follower: TenantLogFollower | None = None
        self._generation = 0  # bumped on every restart, so late lines of an old run are dropped
        self._colours: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="logs-title")
        yield RichLog(id="logs-view", max_lines=self.scrollback, wrap=True, markup=False)
        yield Input(placeholder="search: text to keep (esc clears)", id="logs-search")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.view = self.query_one("#logs-view", RichLog)
        self.title_bar = self.query_one("#logs-title", Static)
        self.search_input = self.query_one("#logs-search", Input)
        self.view.focus()
        self._restart()

    def on_unmount(self) -> None:
        self._stop_follower()

    # -- reading --------------------------------------------------------------------------
    def _options(self) -> LogOptions:
        return LogOptions(
            container=self.container, previous=self.previous,
            tail_lines=self.session.settings.logs.tail_lines,
            pods=(self.pod,) if self.pod else (),
        )  # fmt: skip

    def _stop_follower(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None

    def _restart(self) -> None:
        self._stop_follower()
        self._generation += 1
        with self._inbox_lock:
            self._inbox.clear()
        self.buffer.clear()
        self.pending = 0
        self.status = "reading…"
        self._redraw()
        self._start(self._generation)

    @work(thread=True, group="logs", exclusive=True, exit_on_error=False)
    def _start(self, generation: int) -> None:
        options = self._options()
        try:
            conn = self.session.cluster().conn
            if self.previous:
                logs = read_tenant_logs(conn, self.session.settings, self.tenant, options)
                self._deliver(generation, logs.lines)
                problems = "; ".join(f"{p}: {why}" for p, why in logs.problems.items())
                done = f"previous runs of {len(logs.pods) - len(logs.problems)} pod(s)"
                self.post_message(
                    self.StatusChanged(f"{done}{' · ' + problems if problems else ''}")
                )
                return
            pods = tenant_pods(conn, self.session.settings, self.tenant)
        except NcConsoleError as err:
            self.post_message(self.StatusChanged(str(err), error=True))
            return
        if generation != self._generation:
            return
        self.post_message(self.StatusChanged(f"following {len(pods)} pod(s)"))
        follower = TenantLogFollower(
            conn, self.session.settings, self.tenant, options,
            on_line=lambda line: self._deliver(generation, [line]),
            on_status=lambda text: self.post_message(self.StatusChanged(text)),
        )  # fmt: skip
        self._follower = follower
        follower.start()
        if generation != self._generation:
            follower.stop()

    def _deliver(self, generation: int, lines: list[LogLine]) -> None:
        """Called on reader threads: queue the lines, wake the screen once per batch."""
        if generation != self._generation or not lines:
            return
        with self._inbox_lock:
            wake = not self._inbox
            self._inbox.extend(lines)
        if wake:
            self.post_message(self.LinesArrived())

    def on_log_screen_lines_arrived(self, _: LinesArrived) -> None:
        with self._inbox_lock:
            batch, self._inbox = self._inbox, []
        if not batch:
            return
        in_order = self._merge(batch)
        if not self.following:
            self.pending += len(batch)
            self._show_title()
            return
        if in_order:
            for line in batch:
                if self._shown(line):
                    self.view.write(self._line_text(line))
        else:
            self._redraw()
        self._show_title()

    def _merge(self, batch: list[LogLine]) -> bool:
        """Put `batch` into the buffer in time order; whether it only appended at the end."""
        appended = True
        for line in batch:
            last = self.buffer[-1].at if self.buffer else None
            if line.at is None or last is None or line.at >= last:
                self.buffer.append(line)
                continue
            appended = False
            times = [b.at.timestamp() if b.at else 0.0 for b in self.buffer]
            index = bisect.bisect_right(times, line.at.timestamp())
            if len(self.buffer) == self.scrollback:
                self.buffer.popleft()
                index = max(0, index - 1)
            self.buffer.insert(index, line)
        return appended

    def on_log_screen_status_changed(self, message: StatusChanged) -> None:
        self.status = message.text
        if message.error:
            self.notify(message.text, title="logs", severity="error", timeout=10)
        self._show_title()

    # -- drawing --------------------------------------------------------------------------
    def _shown(self, line: LogLine) -> bool:
        return not self.search or self.search.lower() in line.text.lower()

    def _line_text(self, line: LogLine) -> Text:
        colour = self._colours.setdefault(line.pod, POD_COLOURS[len(self._colours) % 7])
        text = Text()
        if not self.pod:
            # The Deployment's name is the same on every pod; the rest tells them apart.
            text.append(line.pod.removeprefix("nextcloud-"), style=colour)
            text.append(" ")
        if self.timestamps and line.at is not None:
            text.append(line.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z ", style="dim")
        body = Text(line.text, style="bold red" if "fatal" in line.text.lower() else "")
        if self.search:
            body.highlight_words([self.search], style="reverse", case_sensitive=False)
        text.append_text(body)
        return text

    def _redraw(self) -> None:
        self.view.clear()
        self.view.wrap = self.wrap
        shown = [line for line in self.buffer if self._shown(line)]
        for line in shown:
            self.view.write(self._line_text(line), scroll_end=False)
        if self.following:
            self.view.scroll_end(animate=False)
        self._show_title()

    def _show_title(self) -> None:
        run = "previous run" if self.previous else "current"
        where = f"pod {self.pod}" if self.pod else "all pods"
        state = (
            "previous runs (ended)"
            if self.previous
            else ("● following" if self.following else f"⏸ paused · {self.pending} new")
        )
        text = Text(f"logs {self.tenant}", style="bold")
        text.append(f" · {where} · container {self.container} · {run} · ")
        text.append(state, style="green" if self.following and not self.previous else "yellow")
        flags = [f"{len(self.buffer)}/{self.scrollback} lines"]
        if self.search:
            matches = sum(1 for line in self.buffer if self._shown(line))
            flags.append(f"search '{self.search}': {matches} match")
        flags.append("wrap" if self.wrap else "no wrap")
        if self.timestamps:
            flags.append("time stamps")
        text.append(" · " + " · ".join(flags), style="dim")
        text.append(f"\n{self.status}", style="dim")
        self.title_bar.update(text)

    # -- keys -----------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.search:
            self.search = ""
            self.search_input.value = ""
            self.search_input.remove_class("-active")
            self._redraw()
            return
        self.app.pop_screen()

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        self.view.auto_scroll = self.following
        if self.following:
            self.pending = 0
            self._redraw()
        self._show_title()

    def action_toggle_previous(self) -> None:
        self.previous = not self.previous
        self._restart()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self._redraw()

    def action_top(self) -> None:
        if self.following:
            self.action_toggle_follow()
        self.view.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False)

    def action_search(self) -> None:
        self.search_input.add_class("-active")
        self.set_focus(self.search_input)

    @on(Input.Submitted, "#logs-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self.search_input.set_class(bool(self.search), "-active")
        self.view.focus()
        self._redraw()

    def action_choose_container(self) -> None:
        self._choose_container()

    @work(thread=True, group="logs-choose", exit_on_error=False)
    def _choose_container(self) -> None:
        try:
            pods = tenant_pods(self.session.cluster().conn, self.session.settings, self.tenant)
        except NcConsoleError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        names = sorted({c for pod in pods for c in pod.containers})
        choices = [(c, f"{'● ' if c == self.container else '  '}{c}") for c in names]
        self.app.call_from_thread(
            self.app.push_screen, ChoiceScreen("container", choices), self._container_chosen
        )

    def _container_chosen(self, container: str | None) -> None:
        if container and container != self.container:
            self.container = container
            self._restart()

    def action_choose_pod(self) -> None:
        self._choose_pod()

    @work(thread=True, group="logs-choose", exit_on_error=False)
    def _choose_pod(self) -> None:
        try:
            pods = tenant_pods(self.session.cluster().conn, self.session.settings, self.tenant)
        except NcConsoleError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        choices = [("*", f"{'● ' if not self.pod else '  '}all pods, interleaved")]
        choices += [(p.name, f"{'● ' if p.name == self.pod else '  '}{p.name}") for p in pods]
        self.app.call_from_thread(
            self.app.push_screen, ChoiceScreen("pod", choices), self._pod_chosen
        )

    def _pod_chosen(self, pod: str | None) -> None:
        if pod is None:
            return
        chosen = "" if pod == "*" else pod
        if chosen != self.pod:
            self.pod = chosen
            self._restart()
