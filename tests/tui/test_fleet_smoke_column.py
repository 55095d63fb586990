"""The SMOKE column of the fleet rows: the last recorded result with its age, dimmed when it
was taken at another revision, refreshed when the record changes, and filterable."""

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
    rows = build_rows(demo_snapshot(), FROZEN_NOW, smoke=smoke)
    assert smoke_cells(rows, "canary", "notaris", "acme", "bakkerij") == [
        "✔ pass 3m",
        "✖ fail 70s",
        "! warn 5h",
        "– none",
    ]


def test_result_from_another_revision_is_dimmed() -> None:
    snapshot = demo_snapshot()  # canary runs NEW_REV
    current = SmokeOutcome(True, (), FROZEN_NOW, NEW_REV)
    older = SmokeOutcome(True, (), FROZEN_NOW, OLD_REV)
    (cell,) = [r.cells[SMOKE] for r in build_rows(snapshot, FROZEN_NOW, smoke={"canary": current})
               if r.key == tenant_key("canary")]  # fmt: skip
    assert str(cell.style) == "green"
    (cell,) = [r.cells[SMOKE] for r in build_rows(snapshot, FROZEN_NOW, smoke={"canary": older})
               if r.key == tenant_key("canary")]  # fmt: skip
    assert str(cell.style) == "dim"


def test_cached_rows_follow_a_new_result_and_its_age() -> None:
    snapshot, cache = demo_snapshot(), RowCache()
    assert smoke_cells(build_rows(snapshot, FROZEN_NOW, cache=cache), "acme") == ["– none"]
    failed = {"acme": SmokeOutcome(False, ("x",), FROZEN_NOW, OLD_REV)}
    assert smoke_cells(build_rows(snapshot, FROZEN_NOW, cache=cache, smoke=failed), "acme") == [
        "✖ fail 0s"
    ]
    later = FROZEN_NOW + timedelta(minutes=4)
    assert smoke_cells(build_rows(snapshot, later, cache=cache, smoke=failed), "acme") == [
        "✖ fail 4m"
    ]


def test_filter_smoke_fail_shows_only_failed_tenants() -> None:
    smoke = {"notaris": SmokeOutcome(False, ("x",), FROZEN_NOW, OLD_REV)}
    rows = build_rows(demo_snapshot(), FROZEN_NOW, query="smoke fail", smoke=smoke)
    assert [r.key for r in rows if r.key.startswith("tenant:")] == [tenant_key("notaris")]


async def test_corrupt_record_is_one_notice_and_the_fleet_still_shows(source) -> None:
    path = smoke_record_path()  # in the test's own XDG_STATE_HOME (conftest)
    path.parent.mkdir(parents=True)
    path.write_text('{"canary": {"passed": tr', encoding="utf-8")
    shown: list[str] = []

    def record(message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification.message)

    app = build_app(source)
    async with app.run_test(size=(120, 40), notifications=True, message_hook=record) as pilot:
        await wait_for(pilot, lambda: bool(shown))
        table = app.screen.query_one(FleetTable)
        assert table.get_cell(tenant_key("canary"), "smoke").plain == "– none"
        for _ in range(3):  # later refreshes (the 1 s tick) do not repeat it
            app.screen._show_snapshot(app.snapshot)
        await pilot.pause()
    assert len(shown) == 1 and f"smoke record {path} is unreadable" in shown[0]


async def test_results_from_another_cluster_never_show(source) -> None:
    """Same tenant names on two clusters (accept and prod, or an earlier demo): only this
    cluster's results count; another's pass must not look like this tenant's."""
    cluster = demo_snapshot().cluster
    record = SmokeRecord()
    record.save_many(
        {
            "canary": SmokeOutcome(True, (), FROZEN_NOW, NEW_REV, "pass", "https://other:6443"),
            "notaris": SmokeOutcome(False, ("x",), FROZEN_NOW, OLD_REV, "fail", cluster),
        }
    )
    app = build_app(source)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await wait_for(pilot, lambda: table.get_cell(tenant_key("notaris"), "smoke").plain != "")
        assert table.get_cell(tenant_key("notaris"), "smoke").plain.startswith("✖ fail")
        assert table.get_cell(tenant_key("canary"), "smoke").plain == "– none"
