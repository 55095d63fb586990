"""The fleet screen's order (problems first, columns by shift+letter, across waves), the
filter saying when nothing matches, the columns that fit 80 and 140, and NO_COLOR styles."""

from __future__ import annotations

import pytest

from ncconsole.render import cells
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import FleetHeader

from .conftest import build_app, plain, wait_for


def tenants(table: FleetTable) -> list[str]:
    return [key.removeprefix("tenant:") for key in table.row_keys if key.startswith("tenant:")]


def header(app) -> str:
    return plain(app.screen.query_one(FleetHeader).render(), 200)


async def test_problems_first_within_waves_then_across_waves_and_back(source):
    app = build_app(source)
    async with app.run_test(size=(140, 42)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        assert tenants(table)[5:9] == ["kinderopvang", "notaris", "sportclub", "tandarts"]
        assert "sort:" not in header(app)  # the default (wave, then name) needs no mention

        await pilot.press("H")
        await wait_for(pilot, lambda: tenants(table)[5] == "notaris")
        assert "sort: problems first, within waves" in header(app)
        assert tenants(table)[1:5] == ["huisarts", "acme", "bakkerij", "gemeente-oost"]

        await pilot.press("W")  # one list: the worst of the whole fleet on top
        await wait_for(pilot, lambda: table.row_keys[0] == "wave:all")
        assert tenants(table)[:4] == ["notaris", "bibliotheek", "zorggroep", "huisarts"]
        assert "across waves" in header(app)
        assert table.get_cell("tenant:notaris", "wave").plain == "2"

        await pilot.press("R")  # restarts, most first
        await wait_for(pilot, lambda: tenants(table)[0] == "notaris" and "restarts" in header(app))
        await pilot.press("N", "W")
        await wait_for(pilot, lambda: table.row_keys[:2] == ["wave:0", "tenant:canary"])
        assert "sort:" not in header(app)


async def test_a_filter_that_matches_nothing_says_so(source):
    app = build_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        await pilot.press("slash", *"wave:3 env:accept", "enter")
        await wait_for(pilot, lambda: table.row_keys == [])
        no_match = app.screen.query_one("#no-match")
        assert no_match.display
        assert plain(no_match.render()).strip() == (
            "no tenant matches 'wave:3 env:accept' — esc clears the filter"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        assert not no_match.display


@pytest.mark.parametrize(("size", "hidden"), [((80, 24), {"checked", "env", "s3"}),
                                              ((140, 42), set())])  # fmt: skip
async def test_columns_fit_the_terminal_and_the_reason_stays(source, size, hidden):
    app = build_app(source)
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        keys = [column.key for column in table.layout_columns]
        assert keys[:3] == ["tenant", "health", "reason"]
        assert not hidden & set(keys)
        assert sum(column.width for column in table.layout_columns) <= size[0]
        reason = table.get_cell("tenant:huisarts", "reason").plain
        assert reason == "maintenance on"
        if size[0] == 140:
            assert keys[-1] == "checked"  # every column, the last one whole
            assert table.get_cell("tenant:notaris", "reason").plain.startswith(
                "waiting for a PgBouncer connection"  # the platform cause first
            )


async def test_no_color_uses_reverse_and_underline_not_colours(source, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    try:
        app = build_app(source)
        async with app.run_test(size=(140, 42)) as pilot:
            table = app.screen.query_one(FleetTable)
            await wait_for(pilot, lambda: len(table.row_keys) == 16)
            assert str(table.get_cell("tenant:notaris", "health").style) == "bold reverse"
            assert str(table.get_cell("tenant:huisarts", "health").style) == "underline"
    finally:
        cells.use_palette(cells.COLOUR)


async def test_high_contrast_theme_from_settings_and_the_palette(source):
    app = build_app(source, theme="high-contrast")
    async with app.run_test(size=(140, 42)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == 16)
        assert app.theme == "ncconsole-high-contrast"
        style = str(table.get_cell("tenant:notaris", "health").style)
        assert style == "bold bright_white on red"
        app.switch_theme("default")
        await wait_for(
            pilot, lambda: str(table.get_cell("tenant:notaris", "health").style) == "bold red"
        )
