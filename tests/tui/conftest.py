"""The console on a FixedFleetSource with a frozen clock; the user's own config is ignored."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable

import pytest
from rich.console import Console, RenderableType

from ncconsole.settings import Settings
from ncconsole.tui.app import NcConsoleApp, make_app
from ncconsole.tui.source import FixedFleetSource
from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    # The user's smoke record would show in the fleet rows' SMOKE column.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("NCCONSOLE_CONFIG", raising=False)
    monkeypatch.delenv("NCCONSOLE_KEYMAP", raising=False)


@pytest.fixture
def source() -> FixedFleetSource:
    return FixedFleetSource(demo_snapshot())


def build_app(source: FixedFleetSource, **settings: object) -> NcConsoleApp:
    return make_app(source, Settings(**settings), clock=lambda: FROZEN_NOW)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 3.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await asyncio.sleep(0)


def plain(renderable: RenderableType, width: int = 120) -> str:
    """What a renderable reads as on a terminal `width` columns wide, without colour."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()
