"""Header badges (profile or context, PROD, READ-ONLY), keys hidden in read-only mode, and
switching cluster at runtime with `:ctx` on the live fleet of a simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from ncconsole.cli.console import LiveFleetOpener
from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.settings import Settings, load_settings
from ncconsole.sim.apiserver.resources import NAMESPACES
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.commands import fleet_commands
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.help import HelpScreen, binding_rows
from ncconsole.tui.screens.waves import WavesScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import FleetHeader, badges, header_text
from tests.cluster_objects import add_tenant
from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.ops.waves_helpers import sim_settings
from tests.sim.sim_helpers import FAST, scenario

from .conftest import build_app, plain, wait_for

pytestmark = pytest.mark.timeout(60)


def test_badges_name_the_profile_and_mark_prod_and_read_only():
    snapshot = demo_snapshot()
    settings = Settings().model_copy(
        update={"profile": "prod", "production": True, "read_only": True}
    )
    text = badges(settings, snapshot)
    assert text.plain == " prod   PROD   READ-ONLY "
    styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    # Reverse video: the badges stay visible without colour (NO_COLOR); PROD in yellow.
    assert styles == {
        " prod ": "bold reverse yellow",
        " PROD ": "bold reverse yellow",
        " READ-ONLY ": "bold reverse",
    }
    # Without a profile the context names the cluster; nothing marks a plain test cluster.
    assert badges(Settings(), snapshot).plain == f" {snapshot.context} "
    line = header_text(snapshot, FROZEN_NOW, settings).plain.splitlines()[0]
    assert line.startswith("ncconsole  prod   PROD   READ-ONLY   context ")
    line = header_text(snapshot, FROZEN_NOW, Settings()).plain.splitlines()[0]
    assert line.startswith(f"ncconsole  {snapshot.context}   cluster ")


async def test_the_header_shows_the_badges_on_the_fleet_screen(source):
    app = build_app(source, production=True, read_only=True)
    app.settings = app.settings.model_copy(update={"profile": "prod"})
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.screen.query_one(FleetHeader)
        await wait_for(pilot, lambda: "READ-ONLY" in plain(header.render(), 80))
        first = plain(header.render(), 80).splitlines()[0]
        assert "prod" in first and "PROD" in first  # visible at 80 columns


async def waves_keys(sim: Simulator, read_only: bool) -> tuple[set[str], set[str]]:
    """The binding ids the waves screen's help and footer offer; in read-only mode also
    checks that `p` asks nothing and the help screen lists no promotion."""
    settings = sim_settings(sim, read_only=read_only)
    app = make_app(FleetState(settings, timing=FAST, probes=False), settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WavesScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.table.row_count == 1, 10)
        keys = {row[2] for row in binding_rows(screen)}
        footer = {binding.binding.id for binding in screen.active_bindings.values()}
        if read_only:
            await pilot.press("p")  # does nothing: no question that is then refused
            await pilot.pause(0.2)
            assert not isinstance(app.screen, ConfirmScreen)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert "Promote" not in plain(app.screen.query_one("#help-table").render())
    return keys, footer


async def test_read_only_hides_the_keys_that_would_be_refused(tmp_path: Path):
    hidden = {"wave_promote", "wave_halt", "waves_more", "waves_fewer"}
    spec = scenario([{"name": "canary", "wave": 0, "replicas": 1}])
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        keys, footer = await waves_keys(sim, read_only=False)
        assert hidden <= keys and hidden <= footer
        keys, footer = await waves_keys(sim, read_only=True)
        assert not hidden & keys and not hidden & footer
        assert "waves_refresh" in keys


def first_hit(app) -> str:
    """The palette's top suggestion."""
    return str(app.screen.query("CommandList").first().get_option_at_index(0).prompt)


def in_repo(app) -> dict[str, bool]:
    snapshot = app.snapshot
    if snapshot is None or not snapshot.complete:
        return {}
    return {tenant.name: tenant.in_repo for tenant in snapshot.tenants}


class FastOpener(LiveFleetOpener):
    """The console's own opener, with the tests' fast watch timing and no probes."""

    def open(self, settings: Settings) -> FleetState:
        return FleetState(settings, connection=connect(settings), timing=FAST, probes=False)


async def test_ctx_switches_to_another_profile_without_leaving(tmp_path: Path, monkeypatch):
    with SimServer(tls_dir=tmp_path / "tls") as sim:
        sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
        for name, wave in (("canary", 0), ("alpha", 1)):
            add_tenant(sim, name, wave)
        write_repo(tmp_path / "accept", {"tenant-canary.yaml": tenant_yaml("canary", wave='"0"')})
        write_repo(
            tmp_path / "prod",
            {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in (("canary", 0),
                                                                             ("alpha", 1))},
        )  # fmt: skip
        sim.write_kubeconfig(tmp_path / "kubeconfig")
        config = tmp_path / "config.yaml"
        config.write_text(
            "kubeconfig: kubeconfig\nprofile: accept\nprofiles:\n"
            "  accept: {repo: accept}\n  prod: {repo: prod, production: true}\n"
        )
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(config))
        settings = load_settings()
        opener = FastOpener()
        first = opener.open(settings)
        app = make_app(first, settings, opener=opener)
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.screen.query_one(FleetTable)
            # alpha runs in the cluster but is not in the accept repo: an orphan there.
            await wait_for(pilot, lambda: in_repo(app) == {"canary": True, "alpha": False}, 10)
            titles = [command.title for command in fleet_commands(app)]
            assert "ctx: profile accept (current)" in titles and "ctx: profile prod" in titles

            await pilot.press("colon")
            await pilot.press(*"ctx: profile prod")
            await wait_for(pilot, lambda: "ctx: profile prod" in first_hit(app), 5)
            await pilot.press("enter")

            await wait_for(pilot, lambda: app.settings.profile == "prod", 10)
            await wait_for(pilot, lambda: in_repo(app) == {"canary": True, "alpha": True}, 10)
            assert app.snapshot.repo == str(tmp_path / "prod")
            table = app.screen.query_one(FleetTable)
            await wait_for(pilot, lambda: "tenant:alpha" in table.row_keys)
            header = plain(app.screen.query_one(FleetHeader).render())
            assert " prod " in header and " PROD " in header
            assert first._stopping.is_set()  # the old cluster's watches are stopped
            assert isinstance(table, DataTable)
