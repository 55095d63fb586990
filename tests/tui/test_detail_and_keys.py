"""Tenant detail, help, command palette and remapped keys on a fixed fleet."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.notifications import Notify
from textual.widgets import OptionList

from ncconsole.fleet.model import Health
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.screens.help import HelpScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.panes import Pane
from tests.fixtures.demo_fleet import demo_snapshot

from .conftest import build_app, plain, wait_for

pytestmark = pytest.mark.timeout(30)


def pane_text(app, pane_id: str) -> str:
    return plain(app.screen.query_one(f"#{pane_id}", Pane).content)


async def open_detail(pilot, tenant: str) -> None:
    table = pilot.app.screen.query_one(FleetTable)
    await wait_for(pilot, lambda: bool(table.row_keys))
    assert pilot.app.screen.select_tenant(tenant)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TenantScreen))


async def test_enter_opens_the_detail_with_pods_and_argo_state_and_esc_goes_back(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot, "notaris")
        pods = pane_text(app, "pods")
        assert "nextcloud-notaris-7d9f8c6b5-m4w8z" in pods
        assert "CrashLoopBackOff" in pods and "worker-" in pods
        argo = pane_text(app, "argo")
        # multi-source: the chart version and the values commit, what runs and what Git asks
        assert "out of sync · runs 6.6.4@9f1c2ab · Git 6.6.9@4e07d1c" in argo
        assert "Degraded" in argo and "SyncError" in argo and "sync #12" in argo
        assert "HTTP 500" in pane_text(app, "nextcloud")
        assert "nextcloud-notaris" in pane_text(app, "s3")
        assert "Back-off restarting failed container" in pane_text(app, "events")
        # The fleet behind the detail catches up with what changed meanwhile.
        snapshot = demo_snapshot(version=2)
        tenants = tuple(
            replace(t, health=Health.DEGRADED) if t.name == "tandarts" else t
            for t in snapshot.tenants
        )
        source.publish(replace(snapshot, tenants=tenants))
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert table.cursor_tenant == "notaris"
        assert table.get_cell("tenant:tandarts", "health").plain == "✖ degraded"


async def test_detail_follows_new_snapshots(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot, "notaris")
        snapshot = demo_snapshot(version=2)
        notaris = snapshot.tenant("notaris")
        healed = replace(
            notaris, pods=tuple(replace(p, reason="", ready=True) for p in notaris.pods)
        )
        source.publish(
            replace(
                snapshot,
                tenants=tuple(healed if t.name == "notaris" else t for t in snapshot.tenants),
            )
        )
        await wait_for(pilot, lambda: "CrashLoopBackOff" not in pane_text(app, "pods"))
        assert "✖ no" not in pane_text(app, "pods")


async def test_detail_at_80x24_is_a_full_screen_with_the_pods_in_view(source):
    app = build_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, "notaris")
        pods = app.screen.query_one("#pods", Pane)
        assert pods.region.right <= 80 and pods.region.bottom <= 24
        assert "CrashLoopBackOff" in pane_text(app, "pods")


async def test_help_lists_every_binding_of_the_screen(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = {binding_id: keys for keys, _what, binding_id in app.screen.rows if binding_id}
        assert rows["filter"] == "/"
        assert rows["quit"] == "q"
        assert rows["help"] == "?"
        assert rows["cursor_down"] == "j"
        assert set(rows["command_palette"].split(", ")) == {":", "^p"}
        assert "open" in rows and "back" in rows
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))


async def test_a_key_remapped_in_settings_works_and_help_shows_it(source):
    app = build_app(source, keymap={"filter": "f", "cursor_down": "n"})
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        assert table.cursor_tenant == "canary"
        # The remapped "down" steps over the wave 1 heading onto its first tenant.
        await pilot.press("n")
        await wait_for(pilot, lambda: table.cursor_key == "tenant:acme")
        await pilot.press("k", "k")
        await wait_for(pilot, lambda: table.cursor_key == "tenant:canary")
        await pilot.press("f")
        await wait_for(pilot, lambda: app.focused is app.screen.query_one("#filter"))
        await pilot.press(*"sport", "enter")
        await wait_for(pilot, lambda: table.row_keys == ["wave:2", "tenant:sportclub"])
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = {binding_id: keys for keys, _what, binding_id in app.screen.rows if binding_id}
        assert rows["filter"] == "f"


async def test_command_palette_jumps_to_a_tenant(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("colon")
        await pilot.press(*"tandarts")
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count > 0 and options.highlighted == 0)
        assert "tandarts" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))
        assert app.screen.tenant_name == "tandarts"


async def test_q_quits(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert source.started is False


async def test_an_unknown_keymap_id_is_reported_not_ignored(source):
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    app = build_app(source, keymap={"filtr": "f"})
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await wait_for(pilot, lambda: bool(shown))
        assert "filtr" in shown[0] and "filter" in shown[0]


async def test_a_keymap_that_takes_another_bindings_key_says_so(source):
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    app = build_app(source, keymap={"filter": "q"})
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await wait_for(pilot, lambda: bool(shown))
        assert shown == [
            "keymap: filter on 'q' takes the key of quit on the fleet screen; choose another key"
        ]


async def test_settings_warnings_are_shown_in_the_console(source, tmp_path, monkeypatch):
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    monkeypatch.setenv("NCCONSOLE_WEB__TIMOUT", "3")
    from ncconsole.settings import load_settings
    from ncconsole.tui.app import make_app

    app = make_app(source, load_settings())
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await wait_for(pilot, lambda: bool(shown))
        assert "NCCONSOLE_WEB__TIMOUT is not a setting" in shown[0]
