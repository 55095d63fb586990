"""The fleet screen on a fixed fleet: grouping by wave, live updates, filter."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from textual import events
from textual.widgets import Input

from ncconsole.fleet.model import Health
from ncconsole.tui.screens.fleet import FleetScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import Banner
from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot, repo_tenant

from .conftest import build_app, wait_for

pytestmark = pytest.mark.timeout(30)


def health_cell(table: FleetTable, tenant: str) -> str:
    return table.get_cell(f"tenant:{tenant}", "health").plain


def publish_from_thread(source, snapshot) -> None:
    """Publish the way FleetState does: from a thread that is not the app's."""
    thread = threading.Thread(target=source.publish, args=(snapshot,))
    thread.start()
    thread.join()


async def test_every_tenant_is_listed_under_its_wave_canary_first(source):
    app = build_app(source)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        keys = table.row_keys
        assert keys[0] == "wave:0" and keys[1] == "tenant:canary"
        current_wave = None
        for key in keys:
            if key.startswith("wave:"):
                current_wave = int(key.removeprefix("wave:"))
            else:
                tenant = source.snapshot.tenant(key.removeprefix("tenant:"))
                assert tenant.wave == current_wave, key
        assert sorted(k for k in keys if k.startswith("tenant:")) == sorted(
            f"tenant:{t.name}" for t in source.snapshot.tenants
        )
        wave2 = "".join(cell.plain for cell in table.get_row("wave:2")).strip()
        assert wave2 == "▼ wave 2 · 4 tenants · 1 degraded · 3 healthy · ↻ 4 out of sync"
        wave0 = "".join(cell.plain for cell in table.get_row("wave:0")).strip()
        assert wave0 == "▼ wave 0 (canary) · 1 tenant · 1 healthy"
        assert health_cell(table, "notaris") == "✖ degraded"
        reason = table.get_cell("tenant:zorggroep", "reason").plain
        assert reason == "no Application nc-zorggroep; ⚑ not deployed"


async def test_a_tenant_turning_degraded_updates_its_row_and_keeps_the_cursor(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        table = screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        assert screen.select_tenant("kinderopvang")
        before = demo_snapshot(version=2)
        broken = replace(
            before.tenant("kinderopvang"), health=Health.DEGRADED, reason="2 pods not ready"
        )
        # A new tenant in an earlier wave adds a row above the cursor as well.
        newcomer = repo_tenant(
            "aaa-nieuw", 1, hostname="aaa-nieuw.example.com", health=Health.PROGRESSING
        )
        tenants = tuple(broken if t.name == "kinderopvang" else t for t in before.tenants)
        publish_from_thread(source, replace(before, tenants=(*tenants, newcomer)))
        await wait_for(pilot, lambda: health_cell(table, "kinderopvang") == "✖ degraded")
        assert table.cursor_tenant == "kinderopvang"
        assert table.row_keys.index("tenant:aaa-nieuw") == table.row_keys.index("wave:1") + 1
        wave2 = "".join(cell.plain for cell in table.get_row("wave:2"))
        assert "2 degraded · 2 healthy" in wave2


async def test_filter_by_name_then_escape_shows_everything_again(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        await pilot.press("slash", "b", "a", "k")
        await wait_for(pilot, lambda: table.row_keys == ["wave:1", "tenant:bakkerij"])
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        assert app.focused is table


async def test_filter_by_state_keeps_the_filter_after_enter(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        await pilot.press("slash", *"degraded", "enter")
        expected = ["wave:2", "tenant:notaris", "wave:3", "tenant:bibliotheek"]
        await wait_for(pilot, lambda: table.row_keys == expected)
        assert app.focused is table
        assert app.screen.query_one("#filter", Input).display
        # A new snapshot does not undo the filter. Its notaris has restarted once more, so the
        # table shows when it has been applied.
        later = demo_snapshot(version=3)
        notaris = later.tenant("notaris")
        notaris = replace(notaris, pods=(notaris.pods[0], replace(notaris.pods[1], restarts=8)))
        tenants = tuple(notaris if t.name == "notaris" else t for t in later.tenants)
        assert table.get_cell("tenant:notaris", "restarts").plain.strip() == "7"
        source.publish(replace(later, tenants=tenants))
        await wait_for(
            pilot, lambda: table.get_cell("tenant:notaris", "restarts").plain.strip() == "8"
        )
        assert table.row_keys == expected


async def test_banner_shows_lost_api_with_data_age_and_clears_on_recovery(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.screen.query_one(Banner)
        await pilot.pause()
        assert not banner.display
        lost = replace(
            demo_snapshot(version=2),
            api_reachable=False,
            api_error="connection refused",
            last_contact=FROZEN_NOW - timedelta(seconds=45),
        )
        publish_from_thread(source, lost)
        await wait_for(pilot, lambda: banner.display)
        text = banner.content.plain
        assert "API unreachable — retrying" in text and "data 45s old" in text
        publish_from_thread(source, demo_snapshot(version=3))
        await wait_for(pilot, lambda: not banner.display)


async def test_forbidden_kind_is_shown_as_a_notice(source):
    from ncconsole.fleet.model import KindState
    from ncconsole.kube.watch import KindStatus

    snapshot = demo_snapshot()
    kinds = {**snapshot.kinds, "events": KindState(KindStatus.FORBIDDEN, "403")}
    source.publish(replace(snapshot, kinds=kinds))
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.screen.query_one(Banner)
        await wait_for(pilot, lambda: banner.display)
        assert "not allowed to read: events" in banner.content.plain


async def test_works_at_80x24(source):
    app = build_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        assert isinstance(app.screen, FleetScreen)
        # Name, health, sync and pods are on screen without scrolling sideways.
        first_four = sum(
            column.width
            for column in table.columns.values()
            if column.key.value in {"tenant", "health", "sync", "pods"}
        )
        assert first_four <= table.scrollable_content_region.width
        assert table.scrollable_content_region.height >= 12


async def test_filter_typed_in_one_burst_loses_no_keys(source):
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: bool(table.row_keys))
        # As a fast typist or a paste delivers them: all queued before "/" is handled.
        for key, character in [("slash", "/"), ("s", "s"), ("p", "p"), ("o", "o")]:
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: table.row_keys == ["wave:2", "tenant:sportclub"])
        assert app.screen.query_one("#filter", Input).value == "spo"


async def test_drift_markers_for_orphan_and_wave_mismatch(source):
    snapshot = demo_snapshot()
    # Found on the cluster only: none of the repo's fields are known.
    orphan = repo_tenant(
        "ghost",
        3,
        environment="",
        hostname="",
        bucket="",
        in_repo=False,
        drift=("orphan",),
        health=Health.HEALTHY,
    )
    tenants = tuple(
        replace(t, drift=("wave label 1 differs from file wave 2",)) if t.name == "sportclub" else t
        for t in snapshot.tenants
    )
    source.publish(replace(snapshot, tenants=(*tenants, orphan)))
    app = build_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: "tenant:ghost" in table.row_keys)
        assert table.get_cell("tenant:ghost", "reason").plain == "⚑ orphan"
        assert table.get_cell("tenant:sportclub", "reason").plain == "⚑ wave mismatch (label 1)"
        await pilot.press("slash", *"orphan", "enter")
        await wait_for(pilot, lambda: table.row_keys == ["wave:3", "tenant:ghost"])


def big_fleet(count: int, degraded: str = ""):
    base = demo_snapshot()
    proto = base.tenant("acme")
    tenants = tuple(
        replace(
            proto,
            name=f"t{i:03d}",
            wave=i % 4,
            health=Health.DEGRADED if f"t{i:03d}" == degraded else Health.HEALTHY,
        )
        for i in range(count)
    )
    return replace(base, tenants=tenants)


async def test_live_updates_keep_the_scroll_position_in_a_long_fleet():
    from ncconsole.tui.source import FixedFleetSource

    source = FixedFleetSource(big_fleet(200))
    app = build_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        table = screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 204)
        assert screen.select_tenant("t150")
        await pilot.pause()
        scrolled = table.scroll_y
        assert scrolled > 0
        publish_from_thread(source, big_fleet(200, degraded="t149"))
        await wait_for(pilot, lambda: health_cell(table, "t149") == "✖ degraded")
        assert table.scroll_y == scrolled
        assert table.cursor_tenant == "t150"
