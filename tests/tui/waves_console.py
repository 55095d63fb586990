"""A live console on a simulator, for the waves screen's tests: fast watch timings, no
probes, and a cell reader that waits out rows not shown yet."""

from __future__ import annotations

from textual.widgets import DataTable

from ncconsole.fleet.state import FleetState
from ncconsole.kube.watch import WatchTiming
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import NcConsoleApp, make_app
from tests.ops.waves_helpers import sim_settings

FAST = WatchTiming(watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.3)


def console(sim: Simulator) -> NcConsoleApp:
    settings = sim_settings(sim)
    return make_app(FleetState(settings, timing=FAST, probes=False), settings)


def cell(table: DataTable, row: str, column: str) -> str:
    """The cell's text, "" while the row is not there yet."""
    try:
        return table.get_cell(row, column).plain
    except Exception:  # the row is not there yet
        return ""
