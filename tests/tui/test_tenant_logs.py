"""The log screen (`l`, `p`) on a simulated platform: the crash-looping tenant's previous run
shows PgBouncer refusing it, the healthy one's current logs follow live, pause buffers, search
keeps the matching lines, wrap and time stamps redraw, the container and pod choosers switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import RichLog, Static

from ncconsole.sim.simulator import Simulator
from ncconsole.tui.screens.logs import ChoiceScreen, LogScreen
from ncconsole.tui.screens.tenant import TenantScreen
from tests.sim.sim_helpers import scenario

from .conftest import plain, wait_for
from .live_console import console

pytestmark = pytest.mark.timeout(90)
TENANTS = [
    {"name": "calm", "wave": 0, "replicas": 2},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"stale_crashloop": True}},
]


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path_factory.mktemp("sim")) as s:
        yield s


def shown(screen: LogScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one("#logs-view", RichLog).lines)


def title(screen: LogScreen) -> str:
    return plain(screen.query_one("#logs-title", Static).render(), width=200)


async def open_tenant(pilot, app, tenant: str) -> None:
    await wait_for(pilot, lambda: app.screen.select_tenant(tenant), timeout=15)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))


async def test_previous_logs_show_why_the_pods_crash(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_tenant(pilot, app, "crashy")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        await wait_for(pilot, lambda: "max_client_conn" in shown(screen), timeout=10)
        assert shown(screen).count("no more connections allowed") == 2  # one per pod
        assert "previous run" in title(screen) and "all pods" in title(screen)
        # Search keeps the matching lines only; esc clears the search, then goes back.
        await pilot.press("slash", *"pgbouncer", "enter")
        await wait_for(pilot, lambda: "Initializing" not in shown(screen))
        assert "search 'pgbouncer': 2 match" in title(screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Initializing" in shown(screen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))


async def test_current_logs_follow_pause_and_redraw(sim) -> None:
    app = console(sim, logs={"tail_lines": 3, "scrollback": 100})
    async with app.run_test(size=(160, 40)) as pilot:
        await open_tenant(pilot, app, "calm")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        await wait_for(pilot, lambda: "kube-probe" in shown(screen), timeout=10)
        assert "● following" in title(screen)
        # New probe lines keep arriving while following.
        count = len(screen.buffer)
        await wait_for(pilot, lambda: len(screen.buffer) > count + 2, timeout=10)
        # Paused: lines go on arriving into the buffer but are not drawn.
        await pilot.press("s")
        drawn = len(screen.query_one("#logs-view", RichLog).lines)
        await wait_for(pilot, lambda: screen.pending > 0, timeout=10)
        assert len(screen.query_one("#logs-view", RichLog).lines) == drawn
        assert "⏸ paused" in title(screen)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.pending == 0 and "● following" in title(screen))
        # The scrollback stays bounded by the setting.
        await wait_for(pilot, lambda: len(screen.buffer) >= 20, timeout=20)
        assert len(screen.buffer) <= 100
        await pilot.press("w")  # wrapped by default; one log line per row now
        await wait_for(pilot, lambda: "· no wrap" in title(screen))
        await pilot.press("t")
        await wait_for(pilot, lambda: "time stamps" in title(screen))
        assert shown(screen).splitlines()[-1].split(" ")[1].endswith("Z")


async def test_container_and_pod_choosers(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_tenant(pilot, app, "calm")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        await wait_for(pilot, lambda: "kube-probe" in shown(screen), timeout=10)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "enter")  # the first pod
        await wait_for(pilot, lambda: app.screen is screen and bool(screen.pod))
        await wait_for(pilot, lambda: "kube-probe" in shown(screen), timeout=10)
        assert f"pod {screen.pod}" in title(screen)
        assert {line.pod for line in screen.buffer} == {screen.pod}
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert "container nextcloud" in title(screen)
