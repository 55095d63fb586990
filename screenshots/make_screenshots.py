"""Write the README's screenshots: screenshots/fleet.svg, tenant.svg and platform.svg.

They show the demo fleet (tests.fixtures.demo_fleet) at a frozen moment, so re-running this
script only changes the pictures when the console's look changes:

    uv run python screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The fixed demo fleet lives with the tests (tests/fixtures/demo_fleet.py).
sys.path.insert(0, str(HERE.parent))
SIZE = (156, 34)


async def _shoot(target: Path, tenant: str | None, platform: bool = False) -> None:
    from ncconsole.settings import Settings
    from ncconsole.tui.app import make_app
    from ncconsole.tui.screens.platform import PlatformScreen
    from ncconsole.tui.screens.tenant import TenantScreen
    from ncconsole.tui.source import FixedFleetSource
    from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot

    # The production profile's badges (profile name, PROD) as the header shows them.
    settings = Settings().model_copy(update={"profile": "prod", "production": True})
    app = make_app(FixedFleetSource(demo_snapshot()), settings, clock=lambda: FROZEN_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.select_tenant("notaris")
        if tenant is not None:
            app.open_tenant(tenant)
            while not isinstance(app.screen, TenantScreen):
                await pilot.pause(0.02)
        if platform:
            await pilot.press("P")
            while not isinstance(app.screen, PlatformScreen):
                await pilot.pause(0.02)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = app.export_screenshot(title="ncconsole")
    # LF endings and UTF-8 whatever the platform, so the files diff cleanly.
    target.write_bytes(svg.encode("utf-8"))
    print(f"wrote {target.relative_to(HERE.parent)}")


def _record_demo_smoke_results() -> None:
    """A few smoke results, as `ncconsole smoke` would leave them, for the SMOKE column."""
    from datetime import timedelta

    from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
    from tests.fixtures.demo_fleet import FROZEN_NOW, NEW_REV, OLD_REV, demo_snapshot

    cluster = demo_snapshot().cluster

    def ago(minutes: int) -> object:
        return FROZEN_NOW - timedelta(minutes=minutes)

    SmokeRecord().save_many(
        {
            "canary": SmokeOutcome(True, (), ago(25), NEW_REV, "pass", cluster),
            "acme": SmokeOutcome(True, (), ago(180), OLD_REV, "pass", cluster),
            "bakkerij": SmokeOutcome(True, (), ago(180), OLD_REV, "warn", cluster),
            "notaris": SmokeOutcome(
                False, ("pods: 1 not Ready",), ago(4), OLD_REV, "fail", cluster
            ),
        }
    )


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    # The user's own config (keymap, theme-affecting settings) must not leak into the pictures.
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="ncconsole-shots-")
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="ncconsole-shots-")
    os.environ.pop("NCCONSOLE_CONFIG", None)
    _record_demo_smoke_results()
    asyncio.run(_shoot(HERE / "fleet.svg", tenant=None))
    asyncio.run(_shoot(HERE / "tenant.svg", tenant="notaris"))
    asyncio.run(_shoot(HERE / "platform.svg", tenant=None, platform=True))


if __name__ == "__main__":
    main()
