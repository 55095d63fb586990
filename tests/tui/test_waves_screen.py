"""The waves screen on the live fleet of a simulated platform: counts and verdicts, promoting
the canary after a confirmation with live progress, a degraded tenant stopping its wave, and
halt."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from ncconsole.kube.lease import lease_holder
from ncconsole.ops.audit import read_audit
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.waves import WavesScreen
from tests.ops.waves_helpers import UPGRADE
from tests.sim.sim_helpers import scenario, wait_until

from .conftest import plain, wait_for
from .live_console import cell, console

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def waves_screen(pilot, app) -> WavesScreen:
    """The waves screen, once the key or action that opens it has taken effect."""
    await wait_for(pilot, lambda: isinstance(app.screen, WavesScreen) and app.screen.is_mounted)
    return app.screen


def status_text(screen: WavesScreen) -> str:
    return plain(screen.query_one("#waves-status", Static).render()).strip()


async def test_promote_the_canary_then_a_degraded_tenant_stops_wave_1(tmp_path: Path) -> None:
    tenants = [
        {"name": "canary", "wave": 0, "replicas": 1},
        {"name": "alpha", "wave": 1, "replicas": 1, "faults": {"sync_fails": True}},
        {"name": "beta", "wave": 1, "replicas": 1},
    ]
    spec = scenario(tenants, pending_upgrade=UPGRADE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("w")
            screen = await waves_screen(pilot, app)
            table = screen.table
            await wait_for(pilot, lambda: cell(table, "0", "promote").startswith("yes"), 10)
            assert cell(table, "1", "at target") == "0/2"
            assert "canary: wave 0: OutOfSync" in cell(table, "1", "promote")
            assert screen.select_wave(1)
            await pilot.pause()
            detail = plain(screen.query_one("#waves-detail", Static).render())
            assert "wave 1: alpha, beta" in detail and "• canary: wave 0: OutOfSync" in detail

            assert screen.select_wave(0)
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Promote wave 0" in app.screen.question
            await pilot.press("y")
            await wait_for(pilot, lambda: "promoted" in status_text(screen), 20)
            progress = screen.progress_table
            assert cell(progress, "canary", "phase") == "done"
            assert "smoke checks passed" in cell(progress, "canary", "message")
            await wait_for(pilot, lambda: cell(table, "1", "promote").startswith("yes"), 10)

            assert screen.select_wave(1)
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: "wave 1: failed" in status_text(screen), 20)
            assert cell(progress, "alpha", "phase") == "failed"
            assert "admission webhook" in cell(progress, "alpha", "message")
        results = [(e["target"], e["result"]) for e in read_audit()]
        assert ("nc-canary/nc-canary", "ok") in results and ("wave 1", "failed") in results


async def test_halt_stops_new_tenants_from_starting(tmp_path: Path) -> None:
    tenants = [{"name": n, "wave": 0, "replicas": 1} for n in ("anna", "bert", "cees")]
    spec = scenario(tenants, pending_upgrade=UPGRADE, timings={"sync": 1})
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            app.action_waves()
            screen = await waves_screen(pilot, app)
            await wait_for(pilot, lambda: cell(screen.table, "0", "promote").startswith("yes"), 10)
            await pilot.press("minus", "minus", "minus")
            assert screen.concurrency == 1
            assert "1 at a time" in plain(screen.query_one("#waves-title", Static).render())
            await pilot.press("p", "y")
            await wait_for(pilot, lambda: "syncing" in cell(screen.progress_table, "anna", "phase"))
            await pilot.press("h")
            await wait_for(pilot, lambda: "halted" in status_text(screen), 20)
            phases = {n: cell(screen.progress_table, n, "phase") for n in ("anna", "bert", "cees")}
            assert list(phases.values()).count("skipped") >= 1
            assert "done" in phases.values()


async def test_quitting_mid_promotion_releases_the_lease(tmp_path: Path) -> None:
    spec = scenario(
        [{"name": "canary", "wave": 0, "replicas": 1}], pending_upgrade=UPGRADE,
        timings={"sync": 3},
    )  # fmt: skip
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            app.action_waves()
            screen = await waves_screen(pilot, app)
            await wait_for(pilot, lambda: cell(screen.table, "0", "promote").startswith("yes"), 10)
            await pilot.press("p", "y")
            await wait_for(
                pilot, lambda: "Running" in cell(screen.progress_table, "canary", "message"), 10
            )
            lease = screen.promotion.lease
            assert lease_holder(lease.read())
            await pilot.press("escape")  # leaving the screen does not stop the promotion
            assert lease_holder(lease.read())
            await pilot.press("q")
        wait_until(lambda: lease_holder(lease.read()) == "", timeout=10, what="Lease released")
        last = [e for e in read_audit() if e["action"] == "wave promote"][-1]
        assert last["result"] == "interrupted"


async def test_rolling_sync_steps_and_statuses_are_shown(tmp_path: Path) -> None:
    tenants = [
        {"name": "canary", "wave": 0, "replicas": 1},
        {"name": "alpha", "wave": 1, "replicas": 1},
        {"name": "stray", "wave": 7, "replicas": 1},
    ]
    appset = {"mode": "rolling_sync", "steps": [{"waves": [0]}, {"waves": [1], "max_update": 0}]}
    with Simulator(scenario(tenants, applicationset=appset), workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            app.action_waves()
            screen = await waves_screen(pilot, app)
            title = screen.query_one("#waves-title", Static)
            await wait_for(pilot, lambda: "RollingSync steps" in plain(title.render(), 200), 10)
            text = plain(title.render(), 200)
            assert "2: wave In 1 (manual)" in text and "step -1 (never synced): nc-stray" in text
            assert screen.select_wave(1)
            detail = screen.query_one("#waves-detail", Static)
            await wait_for(pilot, lambda: "(step 2: Healthy)" in plain(detail.render()), 10)


async def test_j_and_k_move_between_waves_like_the_arrows(tmp_path: Path) -> None:
    tenants = [
        {"name": "canary", "wave": 0, "replicas": 1},
        {"name": "alpha", "wave": 1, "replicas": 1},
        {"name": "beta", "wave": 2, "replicas": 1},
    ]
    with Simulator(scenario(tenants, pending_upgrade=UPGRADE), workdir=tmp_path / "sim") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("w")
            table = (await waves_screen(pilot, app)).table
            await wait_for(pilot, lambda: table.row_count == 3, 10)
            await pilot.press("j", "j")
            assert table.cursor_row == 2
            await pilot.press("k")
            assert table.cursor_row == 1
            detail = plain(app.screen.query_one("#waves-detail", Static).render())
            assert "wave 1: alpha" in detail
