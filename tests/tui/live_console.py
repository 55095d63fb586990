"""A live console on a simulator, for the TUI tests that drive one: fast watch timings, no
probes, and a cell reader that waits out rows not shown yet."""

from __future__ import annotations

from textual.widgets import DataTable

from ncconsole.fleet.state import FleetState
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import NcConsoleApp, make_app
from tests.ops.waves_helpers import sim_settings
from tests.sim.sim_helpers import FAST


def console(sim: Simulator, **settings: object) -> NcConsoleApp:
    config = sim_settings(sim, **settings)
    return make_app(FleetState(config, timing=FAST, probes=False), config)


def cell(table: DataTable, row: str, column: str) -> str:
    """The cell's text, "" while the row is not there yet."""
    try:
        return table.get_cell(row, column).plain
    except Exception:  # the row is not there yet
        return ""
