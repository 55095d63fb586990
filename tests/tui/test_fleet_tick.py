"""The fleet table's work follows what changed, not the fleet's size: a probe repeating its
answer redraws only the clock-dependent cells, the one-second tick touches only the rows in
view (the others are brought up to the clock when they scroll into view), and the source is
told which tenants are on screen so their probes go first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.coordinate import Coordinate

from ncconsole.fleet.model import Health
from ncconsole.render.cells import coarse_age
from ncconsole.render.fleet_rows import (
    COLUMNS,
    CellWidths,
    RowCache,
    build_rows,
    tenant_cells,
    tenant_key,
)
from ncconsole.settings import Settings
from ncconsole.tui.app import make_app
from ncconsole.tui.source import FixedFleetSource
from ncconsole.tui.widgets.fleet_table import FleetTable
from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot

from .conftest import wait_for

KEYS = [column.key for column in COLUMNS]
AGE = KEYS.index("checked")  # PROBED: how old the probe data is


def cells_of(rows, name):
    return next(row.cells for row in rows if row.key == tenant_key(name))


def test_coarse_ages_change_every_ten_seconds_then_every_minute() -> None:
    ages = [coarse_age(FROZEN_NOW, FROZEN_NOW - timedelta(seconds=s)) for s in (0, 9, 10, 59)]
    assert ages == ["<10s", "<10s", "10s", "50s"]
    assert coarse_age(FROZEN_NOW, FROZEN_NOW - timedelta(seconds=119)) == "1m"
    assert coarse_age(FROZEN_NOW, None) == "–"


def test_a_repeated_probe_answer_redraws_only_the_clock_cells() -> None:
    snapshot, cache = demo_snapshot(), RowCache()
    before = cells_of(build_rows(snapshot, FROZEN_NOW, cache=cache), "acme")
    acme = snapshot.tenant("acme")
    assert acme is not None and acme.web is not None and acme.s3 is not None
    later = FROZEN_NOW + timedelta(seconds=30)
    # The same answers, taken later: FleetState joins the tenant again (a new object).
    again = replace(
        acme,
        web=replace(acme.web, checked_at=later, latency_ms=51.0),
        s3=replace(acme.s3, checked_at=later - timedelta(seconds=25), latency_ms=9.0),
    )
    tenants = tuple(again if t.name == "acme" else t for t in snapshot.tenants)
    after = cells_of(build_rows(replace(snapshot, tenants=tenants), later, cache=cache), "acme")
    assert after[AGE].plain == "20s" and before[AGE].plain == "10s"
    for key, old, new in zip(KEYS, before, after, strict=True):
        if key not in ("checked", "smoke"):
            assert new is old, key  # kept, not rebuilt
    # A different answer (maintenance switched on) rebuilds the row.
    changed = replace(again, web=replace(again.web, maintenance=True), health=Health.PROGRESSING)
    tenants = tuple(changed if t.name == "acme" else t for t in snapshot.tenants)
    rebuilt = cells_of(build_rows(replace(snapshot, tenants=tenants), later, cache=cache), "acme")
    assert rebuilt[KEYS.index("health")].plain == "◐ progressing"


def test_the_column_widths_follow_every_change_and_a_repeated_probe_answer_only_its_clock():
    """What the fleet screen fits its columns to: always the widest cell now shown."""

    def measured(tenants, now, flat=False):
        cells = [tenant_cells(t, now, flat) for t in tenants]
        return {key: max(c[i].cell_len for c in cells) for i, key in enumerate(KEYS)}

    snapshot, widths = demo_snapshot(), CellWidths()
    acme = snapshot.tenant("acme")
    assert acme is not None and acme.web is not None and acme.s3 is not None
    assert widths.widest([acme], FROZEN_NOW, False) == measured([acme], FROZEN_NOW)
    assert widths.widest([acme], FROZEN_NOW, False)["checked"] == len("10s")
    # The same answers, taken again just now: PROBED says "<10s", wider than before.
    later = FROZEN_NOW + timedelta(minutes=5)
    again = replace(
        acme, web=replace(acme.web, checked_at=later), s3=replace(acme.s3, checked_at=later)
    )
    assert widths.widest([again], later, False)["checked"] == len("<10s")
    assert widths.widest([again], later, False) == measured([again], later)
    # A longer reason, and the flat order's WAVE column.
    longer = replace(again, reason="x" * 200, health=Health.DEGRADED)
    assert widths.widest([longer], later, True) == measured([longer], later, True)
    # The fleet, then a tenant gone: its widths go with it.
    tenants = [longer, *(t for t in snapshot.tenants if t.name != "acme")]
    assert widths.widest(tenants, FROZEN_NOW, True)["reason"] == 200
    assert widths.widest(tenants[1:], FROZEN_NOW, True) == measured(tenants[1:], FROZEN_NOW, True)
    assert widths.widest([], later, True) == dict.fromkeys(KEYS, 0)


class RecordingSource(FixedFleetSource):
    def __init__(self, snapshot) -> None:
        super().__init__(snapshot)
        self.focused: list[list[str]] = []

    def focus(self, names) -> None:
        self.focused.append(list(names))


def big_snapshot(count: int):
    """The demo fleet's acme, copied `count` times into wave 1 (t000, t001, ...)."""
    demo = demo_snapshot()
    acme = demo.tenant("acme")
    assert acme is not None
    tenants = tuple(replace(acme, name=f"t{i:03d}") for i in range(count))
    return replace(demo, tenants=tenants)


async def test_the_tick_touches_only_rows_in_view_and_scrolling_brings_others_up_to_date():
    clock = [FROZEN_NOW]
    source = RecordingSource(big_snapshot(200))
    app = make_app(source, Settings(), clock=lambda: clock[0])
    async with app.run_test(size=(200, 30)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 201)
        in_view = table.keys_in_view()
        assert tenant_key("t005") in in_view and tenant_key("t199") not in in_view
        # The source learns which tenants are on screen (their probes go first).
        assert source.focused[-1][:3] == ["t000", "t001", "t002"]
        assert "t199" not in source.focused[-1]
        assert table.get_cell(tenant_key("t005"), "checked").plain == "10s"

        clock[0] = FROZEN_NOW + timedelta(minutes=5)
        app.screen._tick()
        assert table.get_cell(tenant_key("t005"), "checked").plain == "5m"
        # Out of view: not touched by the tick...
        assert table.get_cell(tenant_key("t199"), "checked").plain == "10s"
        # ...but brought up to the clock once it scrolls into view.
        table.move_cursor(row=200, animate=False)
        await wait_for(pilot, lambda: tenant_key("t199") in table.keys_in_view())
        await wait_for(pilot, lambda: table.get_cell(tenant_key("t199"), "checked").plain == "5m")
        await wait_for(pilot, lambda: "t199" in source.focused[-1])


async def test_a_filter_over_a_large_fleet_removes_rows_at_once_and_keeps_the_cursor():
    source = RecordingSource(big_snapshot(300))
    app = make_app(source, Settings(), clock=lambda: FROZEN_NOW)
    async with app.run_test(size=(200, 30)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 301)
        table.move_to(tenant_key("t123"))
        await pilot.press("slash", *"t123", "enter")
        await wait_for(pilot, lambda: table.row_keys == ["wave:1", tenant_key("t123")])
        assert table.cursor_tenant == "t123"
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.row_keys) == 301)
        await pilot.pause()
        assert table.cursor_tenant == "t123"
        assert table.get_cell(tenant_key("t299"), "tenant").plain == "t299"

        # Rows gone here and there (every third tenant stays): what DataTable shows at each
        # line, where it finds each row, and the cursor all agree with the rows asked for.
        rows = build_rows(big_snapshot(300), FROZEN_NOW, layout=table.layout_columns)
        kept = [row for i, row in enumerate(rows) if i % 3 == 1 or row.key == "wave:1"]
        table.show_rows(kept)
        await pilot.pause()
        shown = [
            table.coordinate_to_cell_key(Coordinate(line, 0)).row_key.value
            for line in range(table.row_count)
        ]
        assert shown == [row.key for row in kept] == table.row_keys
        assert all(table.get_row_index(row.key) == i for i, row in enumerate(kept))
        assert table.cursor_tenant == "t123" and tenant_key("t122") not in shown
        assert table.get_cell(tenant_key("t297"), "tenant").plain == "t297"
        # ... and the others come back in their places.
        table.show_rows(rows)
        await pilot.pause()
        assert table.row_keys == [row.key for row in rows] and table.cursor_tenant == "t123"
