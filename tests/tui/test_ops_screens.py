"""The occ, smoke and audit screens, driven with keys, against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, RichLog, Static

from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.fleet.state import FleetState
from ncconsole.ops.audit import read_audit
from ncconsole.settings import Settings, load_settings
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.audit import AuditScreen
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.occ import OccScreen
from ncconsole.tui.screens.smoke import SmokeScreen
from ncconsole.tui.source import FixedFleetSource
from ncconsole.tui.widgets.fleet_table import FleetTable
from tests.fixtures.demo_fleet import demo_snapshot
from tests.ops.conftest import OccCluster

from .conftest import plain, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def log_text(screen: OccScreen) -> str:
    return "\n".join(line.text for line in screen.query_one("#occ-output", RichLog).lines)


def badge(screen) -> str:
    return plain(screen.query_one("#occ-exit", Static).render()).strip()


async def occ_console(tmp_path: Path, **settings: object):
    server = SimServer(tls_dir=tmp_path / "tls").start()
    cluster = OccCluster(server, tmp_path)
    instance = cluster.add("acme", 1)
    cluster.add("bakkerij", 1)
    app = make_app(
        FixedFleetSource(demo_snapshot()), Settings(kubeconfig=cluster.kubeconfig, **settings)
    )
    return server, instance, app


async def test_occ_screen_streams_output_and_confirms_state_changes(tmp_path: Path) -> None:
    server, instance, app = await occ_console(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.screen.select_tenant("acme")
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, OccScreen))
            screen = app.screen
            await pilot.press(*"status", "enter")
            await wait_for(pilot, lambda: badge(screen) == "exit 0", timeout=10)
            assert "versionstring: 30.0.6" in log_text(screen)

            await pilot.press(*"maintenance:mode --on", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert not instance.maintenance
            await pilot.press("y")
            await wait_for(pilot, lambda: "Maintenance mode enabled" in log_text(screen), 10)
            assert instance.maintenance
            await pilot.press(*"status -e", "enter")
            await wait_for(pilot, lambda: badge(screen) == "exit 1", timeout=10)
            # History: up brings back the last command, per tenant, kept on disk.
            await pilot.press("up")
            assert screen.query_one("#occ-input").value == "status -e"
        assert [line["exit_code"] for line in read_audit()] == [0, 0, 1]
    finally:
        server.stop()


async def test_occ_on_a_wave_fills_the_results_table(tmp_path: Path) -> None:
    server, _, app = await occ_console(tmp_path, read_only=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.screen.select_tenant("acme")
            await pilot.press("O")
            await wait_for(pilot, lambda: isinstance(app.screen, OccScreen))
            screen = app.screen
            table = screen.query_one("#occ-results", DataTable)
            await pilot.press(*"app:list", "enter")
            await wait_for(pilot, lambda: badge(screen).startswith("2/4"), timeout=15)
            # Only acme and bakkerij run in this cluster; the other two have no pods.
            assert table.row_count == 4
            # Read-only: a state-changing command is refused without a question.
            await pilot.press(*"maintenance:mode --on", "enter")
            await wait_for(pilot, lambda: badge(screen) == "refused", timeout=10)
            assert "read-only mode" in log_text(screen)
    finally:
        server.stop()


async def test_smoke_screen_shows_the_failing_tenant_with_a_reason(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(
        {"tenants": [{"name": "canary", "wave": 0, "replicas": 1},
                     {"name": "sleepy", "wave": 1, "replicas": 1,
                      "faults": {"maintenance": True}}]}
    )  # fmt: skip
    with Simulator(scenario, workdir=tmp_path / "sim") as sim:
        import os

        os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
        try:
            settings = load_settings()
        finally:
            del os.environ["NCCONSOLE_CONFIG"]
        app = make_app(FleetState(settings, probes=False), settings)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: app.screen.select_tenant("sleepy"), timeout=10)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, SmokeScreen))
            summary = app.screen.query_one("#smoke-summary", Static)
            await wait_for(pilot, lambda: "failed" in plain(summary.render()), timeout=20)
            assert "1 of 1 failed: sleepy" in plain(summary.render())
            table = app.screen.query_one("#smoke-results", DataTable)
            assert "maintenance mode" in table.get_cell("sleepy/status.php", "message").plain
            # Back on the fleet, the row shows the result; the shared record holds it too.
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
            fleet_table = app.screen.query_one(FleetTable)
            assert fleet_table.get_cell("tenant:sleepy", "smoke").plain.startswith("✖ fail ")
            assert fleet_table.get_cell("tenant:canary", "smoke").plain == "–"
            assert not SmokeRecord().load()["sleepy"].passed

            await pilot.press("A")
            await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))


async def test_audit_screen_lists_actions_newest_first(tmp_path: Path) -> None:
    from ncconsole.ops.audit import Auditor

    auditor = Auditor(Settings(), None)
    for action in ("secret.create", "occ"):
        with auditor.action(action, f"nc-x/{action}"):
            pass
    app = make_app(FixedFleetSource(demo_snapshot()), Settings())
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        table = app.screen.query_one("#audit-table", DataTable)
        assert table.row_count == 2
        assert table.get_cell("0", "action").plain == "occ"
