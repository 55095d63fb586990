"""The waves screen's decisions: the promote question names the versions, blockers read in
full under the table, `s` re-runs a failed smoke check that blocks a wave, `F` forces with
the CLI's typed confirmation, `c` continues on error, and read-only hides what would change."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.fleet.state import FleetState
from ncconsole.ops.audit import read_audit
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.confirm import ConfirmScreen, TypedConfirmScreen
from ncconsole.tui.screens.smoke import SmokeScreen
from ncconsole.tui.screens.waves import WavesScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from tests.ops.waves_helpers import UPGRADE, sim_settings
from tests.sim.sim_helpers import FAST, scenario

from .conftest import plain, wait_for
from .live_console import cell, console

pytestmark = pytest.mark.timeout(90)
# Single-source until the fleet's views read multi-source revisions (issue 11).
SINGLE = {"sources": "single"}
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
]


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def detail(screen: WavesScreen) -> str:
    return plain(screen.query_one("#waves-detail", Static).render(), 80)


async def open_waves(pilot, app) -> WavesScreen:
    await pilot.press("w")
    await wait_for(pilot, lambda: isinstance(app.screen, WavesScreen))
    screen = app.screen
    await wait_for(pilot, lambda: cell(screen.table, "0", "promote").startswith("yes"), 15)
    return screen


async def test_promote_names_versions_then_s_reruns_a_failed_smoke_check(tmp_path: Path):
    spec = scenario(TENANTS, pending_upgrade=UPGRADE, applicationset=SINGLE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_waves(pilot, app)
            assert screen.selected_wave().wave == 0  # the next wave to promote
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = app.screen.question
            assert "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8" in question
            await pilot.press("y")
            await wait_for(pilot, lambda: cell(screen.table, "1", "promote").startswith("yes"), 30)

            # The promotion is over and has recorded the canary's passing smoke checks...
            await wait_for(pilot, lambda: screen.report is not None, 30)
            recorded = lambda: SmokeRecord().load().get("canary")  # noqa: E731
            await wait_for(pilot, lambda: recorded() is not None and recorded().passed, 30)
            # ...then an old failed smoke result of the canary blocks wave 1.
            target = screen.overview.target_revision
            failed = SmokeOutcome(False, ("status.php: HTTP 503",), revision=target,
                                  cluster=app.snapshot.cluster)  # fmt: skip
            SmokeRecord().save("canary", failed)
            screen.action_refresh()
            await wait_for(pilot, lambda: cell(screen.table, "1", "promote").startswith("no"), 30)
            assert screen.select_wave(1)
            blocker = "• canary: wave 0: smoke checks failed: status.php: HTTP 503"
            await wait_for(pilot, lambda: blocker in detail(screen), 10)
            text = detail(screen)
            assert "s: run the failed smoke checks again" in text
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, SmokeScreen))
            assert app.screen.tenants == ["canary"]
            await wait_for(pilot, lambda: "canary" in app.screen.reports, 30)
            await pilot.press("escape")
            await wait_for(pilot, lambda: cell(screen.table, "1", "promote").startswith("yes"), 30)


async def test_force_asks_for_the_wave_number_and_is_audited_as_forced(tmp_path: Path):
    spec = scenario(TENANTS, pending_upgrade=UPGRADE, applicationset=SINGLE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(140, 42)) as pilot:
            screen = await open_waves(pilot, app)
            assert screen.select_wave(1)
            await pilot.press("c")
            title = plain(screen.query_one("#waves-title").render(), 200)
            assert "continue on error (c)" in title
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
            await pilot.press("2", "enter")  # the wrong wave: nothing happens
            await wait_for(pilot, lambda: app.screen is screen)
            assert screen.promotion is None

            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
            app.screen.query_one(Input).value = "1"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "FORCED past the gates: canary: wave 0: OutOfSync" in app.screen.question
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.report is not None, 30)
        started = next(e for e in read_audit() if e["target"] == "wave 1")
        assert started["args"]["forced"] is True and started["args"]["continue_on_error"]
        assert "FORCED past: canary" in started["message"]


async def test_read_only_hides_force_and_continue_on_error(tmp_path: Path):
    spec = scenario(TENANTS[:1], applicationset=SINGLE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        settings = sim_settings(sim, read_only=True)
        app = make_app(FleetState(settings, timing=FAST, probes=False), settings)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WavesScreen))
            ids = {b.binding.id for b in app.screen.active_bindings.values()}
            assert "wave_force" not in ids and "waves_continue" not in ids
            assert "waves_smoke" in ids  # smoke checks only read


async def test_maintenance_is_its_own_state_on_the_fleet_and_the_waves_screen(tmp_path: Path):
    sleepy = {"name": "sleepy", "wave": 0, "replicas": 1, "faults": {"maintenance": True}}
    tenants = [{"name": "canary", "wave": 0, "replicas": 1}, sleepy]
    spec = scenario(tenants, applicationset=SINGLE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        settings = sim_settings(sim)
        app = make_app(FleetState(settings, timing=FAST), settings)  # with probes
        async with app.run_test(size=(140, 42)) as pilot:
            table = app.screen.query_one(FleetTable)

            def fleet_cell(column: str) -> str:
                try:
                    return table.get_cell("tenant:sleepy", column).plain
                except Exception:  # not there yet
                    return ""

            await wait_for(pilot, lambda: fleet_cell("health") == "⚠ maintenance", 20)
            assert fleet_cell("reason") == "maintenance on"
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WavesScreen))
            screen = app.screen
            await wait_for(pilot, lambda: cell(screen.table, "0", "healthy") == "1/2 ⚠1", 15)
