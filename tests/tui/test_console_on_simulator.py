"""The console on the live FleetState, watching the simulator's HTTPS Kubernetes API."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ncconsole.fleet.state import FleetState
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.resources import APPLICATIONS, NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import Banner
from ncconsole.tui.widgets.panes import Pane
from tests.cluster_objects import add_tenant, app, pod
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.sim.sim_helpers import FAST

from .conftest import plain, wait_for

pytestmark = pytest.mark.timeout(60)

TENANTS = {"canary": 0, "alpha": 1, "beta": 1}


def populate(sim: SimServer) -> None:
    sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
    for name, wave in TENANTS.items():
        add_tenant(sim, name, wave)


def console_on(sim: SimServer, tmp_path: Path):
    repo = write_repo(
        tmp_path / "repo",
        {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in TENANTS.items()},
    )
    settings = Settings(kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig"), repo=repo)
    return make_app(FleetState(settings, timing=FAST, probes=False), settings)


def cell(table: FleetTable, tenant: str, column: str) -> str:
    try:
        return table.get_cell(f"tenant:{tenant}", column).plain
    except Exception:  # the row is not there yet
        return ""


async def test_live_fleet_by_wave_and_a_crashing_pod_and_degraded_app_show_up(tmp_path):
    with SimServer(tls_dir=tmp_path / "tls") as sim:
        populate(sim)
        console = console_on(sim, tmp_path)
        async with console.run_test(size=(120, 40)) as pilot:
            table = console.screen.query_one(FleetTable)
            expected = ["wave:0", "tenant:canary", "wave:1", "tenant:alpha", "tenant:beta"]
            await wait_for(pilot, lambda: table.row_keys == expected, timeout=10)
            await wait_for(pilot, lambda: cell(table, "alpha", "health") == "✔ healthy")
            assert console.screen.select_tenant("beta")

            crashed = pod("alpha", "nextcloud-alpha-0", ready=False, waiting="CrashLoopBackOff")
            sim.call(sim.store.update, PODS, "nc-alpha", "nextcloud-alpha-0", lambda _: crashed)
            await wait_for(pilot, lambda: cell(table, "alpha", "health") == "✖ degraded")
            assert cell(table, "alpha", "restarts") == "3"
            degraded = app("canary", 0, health="Degraded")
            sim.call(sim.store.update, APPLICATIONS, "argocd", "nc-canary", lambda _: degraded)
            await wait_for(pilot, lambda: cell(table, "canary", "health") == "✖ degraded")
            assert table.cursor_tenant == "beta"

            console.screen.select_tenant("alpha")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(console.screen, TenantScreen))
            pods = console.screen.query_one("#pods", Pane)
            await wait_for(pilot, lambda: "CrashLoopBackOff" in plain(pods.content))


async def test_losing_the_api_shows_the_banner_and_recovery_clears_it(tmp_path):
    store = Store()
    first = SimServer(tls_dir=tmp_path / "tls", store=store, admin_token="t0ken").start()
    populate(first)
    second = SimServer(port=first.port, tls_dir=tmp_path / "tls2", store=store, admin_token="t0ken")
    second.tls = first.tls  # the same API server comes back, with the same CA
    console = console_on(first, tmp_path)
    try:
        async with console.run_test(size=(120, 40)) as pilot:
            table = console.screen.query_one(FleetTable)
            banner = console.screen.query_one(Banner)
            await wait_for(pilot, lambda: len(table.row_keys) == 5, timeout=10)
            assert not banner.display
            # Stop the server beside the test, as a server going away would.
            threading.Thread(target=first.stop, daemon=True).start()
            await wait_for(pilot, lambda: banner.display, timeout=10)
            assert "API unreachable — retrying" in banner.content.plain
            assert table.get_cell("tenant:alpha", "health").plain == "✔ healthy"  # last known
            second.start()
            await wait_for(pilot, lambda: not banner.display, timeout=10)
    finally:
        # After the console has closed its watches, so the server need not wait for them.
        second.stop()
