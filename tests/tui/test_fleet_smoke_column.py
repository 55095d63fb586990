"""The SMOKE column of the fleet rows: the last recorded result with its age, dimmed when it
was taken at another revision, refreshed when the tenant's outcome changes, and filterable.
Which outcome a tenant carries (this cluster's only) is FleetState's join, tested in
tests/fleet/test_fleet.py."""

from __future__ import annotations

from datetime import timedelta

from textual.notifications import Notify

from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.locations import smoke_record_path
from ncconsole.render.fleet_rows import COLUMNS, RowCache, build_rows, tenant_key
from ncconsole.tui.widgets.fleet_table import FleetTable
from tests.fixtures.demo_fleet import FROZEN_NOW, NEW_REV, OLD_REV, demo_snapshot

from .conftest import build_app, wait_for

SMOKE = [c.key for c in COLUMNS].index("smoke")


def smoke_cells(rows, *names: str) -> list[str]:
    by_key = {row.key: row for row in rows}
    return [by_key[tenant_key(name)].cells[SMOKE].plain for name in names]


def test_row_shows_symbol_word_and_age_or_none() -> None:
    smoke = {
        "canary": SmokeOutcome(True, (), FROZEN_NOW - timedelta(minutes=3), NEW_REV),
        "notaris": SmokeOutcome(
            False, ("pods: 1 not Ready",), FROZEN_NOW - timedelta(seconds=70), OLD_REV
        ),
        "acme": SmokeOutcome(True, (), FROZEN_NOW - timedelta(hours=5), OLD_REV, "warn"),
    }
    rows = build_rows(demo_snapshot(smoke=smoke), FROZEN_NOW)
    assert smoke_cells(rows, "canary", "notaris", "acme", "bakkerij") == [
        "✔ pass 3m",
        "✖ fail 1m",  # coarse: a live table does not count seconds past one minute
        "! warn 5h",
        "–",
    ]


def test_result_from_another_revision_is_dimmed() -> None:
    # canary runs NEW_REV
    current = demo_snapshot(smoke={"canary": SmokeOutcome(True, (), FROZEN_NOW, NEW_REV)})
    older = demo_snapshot(smoke={"canary": SmokeOutcome(True, (), FROZEN_NOW, OLD_REV)})
    (cell,) = [r.cells[SMOKE] for r in build_rows(current, FROZEN_NOW)
               if r.key == tenant_key("canary")]  # fmt: skip
    assert str(cell.style) == "green"
    (cell,) = [r.cells[SMOKE] for r in build_rows(older, FROZEN_NOW)
               if r.key == tenant_key("canary")]  # fmt: skip
    assert str(cell.style) == "dim"


def test_cached_rows_follow_a_new_result_and_its_age() -> None:
    snapshot, cache = demo_snapshot(), RowCache()
    assert smoke_cells(build_rows(snapshot, FROZEN_NOW, cache=cache), "acme") == ["–"]
    failed = demo_snapshot(smoke={"acme": SmokeOutcome(False, ("x",), FROZEN_NOW, OLD_REV)})
    assert smoke_cells(build_rows(failed, FROZEN_NOW, cache=cache), "acme") == ["✖ fail <10s"]
    # Later, the console redraws the clock-dependent cells of the rows in view (refresh).
    later = FROZEN_NOW + timedelta(minutes=4)
    acme = failed.tenant("acme")
    assert acme is not None
    assert cache.refresh(acme, later)[SMOKE].plain == "✖ fail 4m"


def test_filter_smoke_fail_shows_only_failed_tenants() -> None:
    smoke = {"notaris": SmokeOutcome(False, ("x",), FROZEN_NOW, OLD_REV)}
    rows = build_rows(demo_snapshot(smoke=smoke), FROZEN_NOW, query="smoke fail")
    assert [r.key for r in rows if r.key.startswith("tenant:")] == [tenant_key("notaris")]


async def test_corrupt_record_is_one_notice_and_the_fleet_still_shows(source) -> None:
    path = smoke_record_path()  # in the test's own XDG_STATE_HOME (conftest)
    path.parent.mkdir(parents=True)
    path.write_text('{"canary": {"passed": tr', encoding="utf-8")
    record = SmokeRecord()
    source.publish(demo_snapshot(smoke=record.load(), smoke_problem=record.problem))
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    app = build_app(source)
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await wait_for(pilot, lambda: bool(shown))
        table = app.screen.query_one(FleetTable)
        assert table.get_cell(tenant_key("canary"), "smoke").plain == "–"
        for _ in range(3):  # later refreshes (the 1 s tick) do not repeat it
            app.screen._show_snapshot(app.snapshot)
        await pilot.pause()
    assert len(shown) == 1 and f"smoke record {path} is unreadable" in shown[0]
