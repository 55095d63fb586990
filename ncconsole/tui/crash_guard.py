"""The console never exits because one screen raised.

Textual ends the whole app on any unhandled exception in a handler (and stops the message
loop of the widget that raised). At 3 a.m. that loses the fleet view over a bug in one
screen — and the process even exited 0. Instead (NcConsoleApp._dispatch_action for actions,
which run in the app's own message loop, and NcConsoleApp._handle_exception for a widget's
or screen's handlers):

- the trace is appended to the crash log in the state directory (locations.crash_log_path);
- the error is one notification naming that file;
- the screen that raised is closed (its widget may no longer answer); the fleet screen is
  kept, or, when one of its widgets stopped answering, a fresh one is put over it;
- the console keeps running, and exits non-zero when the user quits after a crash.

A storm of crashes (a screen that fails on every refresh) is not hidden: after
STORM_CRASHES within STORM_SECONDS the app exits as Textual would, with the trace. So does
an exception in the app's own message handlers: Textual has then stopped its loop.
"""

from __future__ import annotations

import time
import traceback
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message_pump import active_message_pump
from textual.screen import Screen

from ncconsole.locations import crash_log_path

if TYPE_CHECKING:
    from textual.app import App

STORM_CRASHES = 5
STORM_SECONDS = 10.0


class CrashGuard:
    """Turns an exception from a screen into a notification and a logged trace."""

    def __init__(self, app: App[Any], path: Path | None = None) -> None:
        self.app = app
        self.path = path or crash_log_path()
        self.crashes = 0
        self._recent: deque[float] = deque(maxlen=STORM_CRASHES)
        # Fleet screens put over a stopped one: if such a screen stops too, give up.
        self._replacements: set[int] = set()

    @property
    def crashed(self) -> bool:
        return self.crashes > 0

    def recover(self, error: Exception, origin: object = None) -> bool:
        """Log, tell, close what raised; False when the app cannot go on (let it exit).
        `origin` is the node whose action raised; without it, the message pump that did."""
        now = time.monotonic()
        self._recent.append(now)
        self.crashes += 1
        where = self._write_trace(error)
        if origin is None:
            screen = self._failing_screen()
            if screen is None:  # the app's own loop stopped: nothing left to run the console
                return False
            if id(screen) in self._replacements:  # the fresh fleet screen failed as well
                return False
        else:
            screen = _screen_of(origin) if origin is not self.app else None
        storm = len(self._recent) == STORM_CRASHES and now - self._recent[0] < STORM_SECONDS
        if storm or not self.app.is_running:
            return False
        text = str(error).splitlines()[0] if str(error) else ""
        self.app.notify(
            f"{type(error).__name__}: {text} — the console goes on; {where}",
            title="internal error",
            severity="error",
            timeout=30,
        )
        if screen is not None:
            self.app.call_later(self._close, screen, origin is None)
        return True

    def _failing_screen(self) -> Screen[Any] | None:
        """The screen whose widget raised, or None when it was the app itself."""
        pump = active_message_pump.get(None)
        if pump is None or pump is self.app:
            return None
        return _screen_of(pump)

    def _close(self, screen: Screen[Any], loop_stopped: bool) -> None:
        """Close `screen`; the base (fleet) screen stays, with a fresh one over it when one
        of its widgets stopped (Textual ends the loop of a widget that raised)."""
        stack = self.app.screen_stack
        if screen not in stack:
            return
        if stack.index(screen) == 0:
            while len(self.app.screen_stack) > 1:
                self.app.pop_screen()
            if loop_stopped:
                fresh = self.app.get_default_screen()
                self._replacements.add(id(fresh))
                self.app.push_screen(fresh)
            return
        while screen in self.app.screen_stack:
            self.app.pop_screen()

    def _write_trace(self, error: Exception) -> str:
        """Append the trace to the crash log; where it went, as the notification says it."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        text = "".join(traceback.format_exception(error))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(f"--- {stamp}\n{text}\n")
        except OSError as err:
            return f"trace not saved ({self.path}: {err.strerror or err})"
        return f"trace in {self.path}"


def _screen_of(node: object) -> Screen[Any] | None:
    if isinstance(node, Screen):
        return node
    try:
        return node.screen  # type: ignore[attr-defined]
    except Exception:  # a widget not (or no longer) on a screen
        return None
