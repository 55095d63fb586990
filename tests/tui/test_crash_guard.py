"""The console never exits because a screen raised (tui/crash_guard.py): the error is one
notification, the trace goes to the crash log in the state directory, the screen that
raised is closed (the fleet stays), and quitting afterwards exits non-zero."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette
from textual.notifications import Notify
from textual.screen import Screen
from textual.widgets import Input, Static

from ncconsole.locations import crash_log_path
from ncconsole.tui.crash_guard import STORM_CRASHES
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.occ import OccScreen

from .conftest import build_app, wait_for

pytestmark = pytest.mark.timeout(30)


class Broken(Screen[None]):
    """A screen with a bug behind its `x` key."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "boom", "Boom")]

    def compose(self):
        yield Static("broken")

    def action_boom(self) -> None:
        raise RuntimeError("boom in a screen")


def recorder() -> tuple[list[str], object]:
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    return shown, record


async def test_palette_and_page_down_at_once_keeps_the_console(source):
    """The race of the report: the palette's list holds options and a highlight whose lines
    are not laid out yet, and PageDown arrives (Textual's OptionList raises KeyError: 0)."""
    shown, record = recorder()
    app = build_app(source)
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"tand")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        commands = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: commands.option_count > 0)
        commands.highlighted = 0
        commands._index_to_line.clear()  # the state the race leaves it in
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert app.is_running
        assert any(m.startswith("KeyError: 0 — the console goes on; trace in ") for m in shown)
        await pilot.press("q")
    assert app.exit_code == 1
    assert "KeyError: 0" in crash_log_path().read_text()


async def test_a_screen_that_raises_is_closed_and_the_fleet_stays(source):
    shown, record = recorder()
    app = build_app(source)
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await pilot.pause()
        fleet = app.screen
        app.push_screen(Broken())
        await wait_for(pilot, lambda: isinstance(app.screen, Broken))
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen is fleet)
        assert app.is_running and app.snapshot is not None
        assert shown[-1] == (
            f"RuntimeError: boom in a screen — the console goes on; trace in {crash_log_path()}"
        )
        await pilot.press("j")  # the fleet still answers keys
        await pilot.press("q")
    assert app.exit_code == 1


async def test_a_crash_in_a_fleet_screen_action_keeps_the_fleet_screen(source, monkeypatch):
    shown, record = recorder()
    app = build_app(source)

    def boom(self) -> None:
        raise ValueError("fleet screen bug")

    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await pilot.pause()
        first = app.screen
        monkeypatch.setattr(FleetScreen, "action_filter", boom)
        await pilot.press("slash")
        await wait_for(pilot, lambda: any("fleet screen bug" in m for m in shown))
        monkeypatch.undo()
        await pilot.press("slash")  # the same fleet screen still works
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        assert app.is_running and app.screen is first


async def test_a_fleet_widget_that_stopped_gets_a_fresh_fleet_screen(source, monkeypatch):
    app = build_app(source)

    def boom(self, snapshot) -> None:
        monkeypatch.undo()  # once: the fresh fleet screen must work
        raise ValueError("filter handler bug")

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first = app.screen
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        monkeypatch.setattr(FleetScreen, "_show_snapshot", boom)  # what the filter calls
        await pilot.press("x")  # Input.Changed reaches the broken handler in the screen's loop
        await wait_for(pilot, lambda: app.screen is not first)
        assert isinstance(app.screen, FleetScreen) and app.is_running
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.focused, Input))


async def test_an_unwritable_state_directory_is_said_not_crashed(source, tmp_path, monkeypatch):
    state = tmp_path / "state-is-a-file"
    state.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    shown, record = recorder()
    app = build_app(source)
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await pilot.pause()
        app.push_screen(Broken())
        await wait_for(pilot, lambda: isinstance(app.screen, Broken))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert "trace not saved" in shown[-1] and app.is_running
        app.action_occ(tenant="notaris")  # the occ screen keeps its history in the state dir
        await wait_for(pilot, lambda: isinstance(app.screen, OccScreen))
        await pilot.press(*"status", "enter")
        await wait_for(pilot, lambda: any("occ history not saved" in m for m in shown))
        assert app.is_running and isinstance(app.screen, OccScreen)


async def test_a_storm_of_crashes_is_not_hidden(source):
    app = build_app(source)
    with pytest.raises(RuntimeError, match="boom in a screen"):  # the test harness re-raises
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for _ in range(STORM_CRASHES):
                if not app.is_running:
                    break
                app.push_screen(Broken())
                await wait_for(pilot, lambda: isinstance(app.screen, Broken) or not app.is_running)
                await pilot.press("x")
                await pilot.pause(0.05)
            await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 1 and app.exit_code == 1
