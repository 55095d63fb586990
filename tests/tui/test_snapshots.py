"""Pictures of the two main screens on the demo fleet at a frozen moment.

Update after an intended change of look: `uv run pytest tests/tui/test_snapshots.py
--snapshot-update`, then look at the SVGs before committing them."""

from __future__ import annotations

import pytest

from ncconsole.tui.screens.tenant import TenantScreen

from .conftest import build_app, wait_for

pytestmark = pytest.mark.timeout(60)


def test_fleet_screen(snap_compare, source):
    async def put_cursor_on_the_degraded_tenant(pilot) -> None:
        await pilot.pause()
        assert pilot.app.screen.select_tenant("notaris")

    assert snap_compare(
        build_app(source), terminal_size=(100, 30), run_before=put_cursor_on_the_degraded_tenant
    )


def test_tenant_detail_at_80x24(snap_compare, source):
    async def open_notaris(pilot) -> None:
        await pilot.pause()
        assert pilot.app.screen.select_tenant("notaris")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TenantScreen))

    assert snap_compare(build_app(source), terminal_size=(80, 24), run_before=open_notaris)
