"""A multi-source fleet end to end in the console: the waves screen shows the target and what
each wave runs as chart version @ short values commit, the canary is promoted, and R on its
detail screen opens the history on the newest entry at other revisions and rolls it back to it
(the history entry's revisions and sources, as Argo CD's own rollback sends them) - or says
first that auto-sync would undo it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from ncconsole.ops.audit import read_audit
from ncconsole.ops.promotion import PromotionOptions
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.sim.apiserver.resources import APPLICATIONS
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.history import HistoryScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.widgets.panes import Pane
from tests.ops.waves_helpers import UPGRADE, head, sim_settings
from tests.sim.sim_helpers import scenario
from tests.tui.test_waves_screen import cell, console, status_text, waves_screen

from .conftest import plain, wait_for

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def choose_default_entry(pilot, app, entries: int) -> None:
    """R opens the history; enter takes the entry the cursor starts on."""
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), 10)
    await wait_for(pilot, lambda: len(app.screen.entries) == entries, 10)
    await pilot.press("enter")


def action_line(app) -> str:
    return plain(app.screen.query_one("#tenant-action", Static).render()).strip()


async def test_promote_then_roll_back_the_canary_with_revisions_shown(tmp_path: Path) -> None:
    spec = scenario([{"name": "canary", "wave": 0, "replicas": 1}], pending_upgrade=UPGRADE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        new = f"6.6.9@{head(sim)[:7]}"
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("w")
            screen = await waves_screen(pilot, app)
            await wait_for(pilot, lambda: cell(screen.table, "0", "promote").startswith("yes"), 10)
            title = plain(screen.query_one("#waves-title", Static).render())
            assert f"target revision {new}" in title
            old = cell(screen.table, "0", "deployed")
            assert old.startswith("6.6.4@") and old != new
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            # What changes in people's words, then the revisions (chart@values commit).
            question = app.screen.question
            assert "Promote wave 0: chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8" in question
            assert f"({old} → {new})?" in question
            await pilot.press("y")
            await wait_for(pilot, lambda: "promoted" in status_text(screen), 30)
            await wait_for(pilot, lambda: cell(screen.table, "0", "deployed") == new, 10)

            await pilot.press("escape")
            app.open_tenant("canary")
            await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))
            await choose_default_entry(pilot, app, 2)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
            question = app.screen.question
            assert f"roll nc-canary back from history 1 ({new}) to history 0 ({old})" in question
            assert "auto-sync" not in question
            await pilot.press("y")
            await wait_for(pilot, lambda: "rollback: done" in action_line(app), 30)
            assert f"rolled back to {old}; smoke checks passed" in action_line(app)
        line = [e for e in read_audit() if e["action"] == "rollback"][-1]
        assert line["result"] == "ok" and line["args"]["history_id"] == 0


async def test_rollback_under_auto_sync_says_it_will_not_last(tmp_path: Path) -> None:
    spec = scenario([{"name": "canary", "wave": 0, "replicas": 1}], pending_upgrade=UPGRADE)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        with WaveSession(sim_settings(sim)) as session:  # an earlier revision to go back to
            assert session.promotion(PromotionOptions(wave=0)).run().outcome == "promoted"
        patch = {"spec": {"syncPolicy": {"automated": {}}}}
        sim.call(
            sim.store.update, *_app_key(),
            lambda a: {**a, "spec": {**a["spec"], **patch["spec"]}},
        )  # fmt: skip
        app = console(sim)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None and app.snapshot.complete, 15)
            app.open_tenant("canary")
            await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))
            await wait_for(pilot, lambda: "auto-sync" in plain_argo(app), 10)
            plain_argo_text = plain_argo(app)
            await choose_default_entry(pilot, app, 2)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
            assert "nc-canary has auto-sync on (syncPolicy.automated)" in app.screen.question
            await pilot.press("n")
        assert not [e for e in read_audit() if e["action"] == "rollback"]
        assert "pinned sync is undone" in plain_argo_text


def _app_key() -> tuple:
    return APPLICATIONS, "argocd", "nc-canary"


def plain_argo(app) -> str:
    panes = app.screen.query("#argo")
    return plain(panes.first(Pane).content) if panes else ""
