"""The console's platform views and actions, driven with keys, on the live fleet of a simulator
whose platform pods have the real PostgreSQL + PgBouncer, Redis and Alertmanager behind them
(reached by port-forward, as on a cluster): the strip, the header, the ALERTS column, the
platform screen, the tenant's alerts and platform panes, silencing a tenant (read back from
Alertmanager, audited), expiring a silence, the silence offered after `occ maintenance:mode
--on`, read-only mode, and components that are unreachable or not part of the setup."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_platform import expire_silences, firing, servers_of, simulator
from textual.widgets import Input, Static

from ncconsole.fleet.state import FleetState
from ncconsole.ops.audit import read_audit
from ncconsole.ops.platform import platform_reader
from ncconsole.platform.reading import PGBOUNCER_WAITING
from ncconsole.settings import load_settings
from ncconsole.tui.app import NcConsoleApp, make_app
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.occ import OccScreen
from ncconsole.tui.screens.platform import PlatformScreen
from ncconsole.tui.screens.silence import SilenceScreen
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import FleetHeader
from ncconsole.tui.widgets.panes import Pane
from ncconsole.tui.widgets.platform_strip import PlatformStrip
from tests.tui.conftest import plain, wait_for

pytestmark = pytest.mark.timeout(300)
SIZE = (160, 50)


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit trail and smoke record in tmp; the user's own config ignored."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("KUBECONFIG", raising=False)


def names() -> tuple[str, str]:
    """Tenant names of this test only: the session's Alertmanager keeps other tests' silences."""
    suffix = uuid.uuid4().hex[:5]
    return f"zwolle-{suffix}", f"leiden-{suffix}"


@asynccontextmanager
async def console(
    real_platform: Any, tmp_path: Path, monkeypatch: Any, tenants: list[dict], **settings: Any
) -> AsyncIterator[tuple[NcConsoleApp, Any, Any]]:
    """The console as `ncconsole` opens it, on a simulator with the real servers behind it."""
    servers = servers_of(real_platform, clients=True)
    with simulator(tmp_path / "sim", tenants, servers) as sim:
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
        loaded = load_settings()
        platform = loaded.platform.model_copy(update={"interval": 2})
        loaded = loaded.model_copy(update={"platform": platform, **settings})
        fleet = FleetState(loaded, platform_reader=platform_reader(loaded))
        app = make_app(fleet, loaded)
        async with app.run_test(size=SIZE) as pilot:
            yield app, pilot, sim


def cell(app: NcConsoleApp, tenant: str, column: str) -> str:
    try:
        return app.screen.query_one(FleetTable).get_cell(f"tenant:{tenant}", column).plain
    except Exception:  # not there yet
        return ""


def text_of(widget: Static) -> str:
    shown = getattr(widget, "_shown", None)  # the strip and header keep what they show
    if shown is not None:
        return (shown[1] if isinstance(shown, tuple) else shown).plain
    return plain(widget.content, width=SIZE[0])


async def until(pilot: Any, what: Callable[[], bool], timeout: float = 60) -> None:
    await wait_for(pilot, what, timeout)


def silences_in_alertmanager(url: str, tenant: str) -> list[dict]:
    return [
        s
        for s in httpx.get(f"{url}/api/v2/silences", timeout=10).json()
        if s["status"]["state"] == "active"
        and any(m["value"] == f"nc-{tenant}" for m in s["matchers"])
    ]


async def test_fleet_platform_screen_and_tenant_panes_show_the_saturated_pgbouncer_and_alerts(
    real_platform, tmp_path, monkeypatch
):
    zwolle, leiden = names()
    tenants = [
        {"name": zwolle, "wave": 1, "replicas": 1, "faults": {"pgbouncer_saturated": True}},
        {"name": leiden, "wave": 1, "replicas": 1},
    ]
    url = real_platform.alertmanager_url
    alert = {"alertname": "NextcloudCronStale", "severity": "warning", "namespace": f"nc-{leiden}"}
    platform_alert = {"alertname": f"RedisSlow{zwolle[-5:]}", "severity": "critical",
                      "namespace": "nc-platform"}  # fmt: skip
    with firing(url, alert, platform_alert):
        async with console(real_platform, tmp_path, monkeypatch, tenants) as (app, pilot, _):
            strip = app.screen.query_one(PlatformStrip)
            # The simulated clients queue one by one until max_client_conn is reached.
            await until(pilot, lambda: f"waiting ({zwolle}) · max_client_conn" in text_of(strip))
            # The header names the platform problem; the strip says who waits and when it was read.
            header = text_of(app.screen.query_one(FleetHeader))
            assert "✖ PgBouncer saturated:" in header
            line = text_of(strip)
            assert "max_client_conn" in line and "Redis ✔" in line and "read " in line
            assert f"platform: {platform_alert['alertname']}" in line
            await until(pilot, lambda: cell(app, zwolle, "health") == "✖ degraded")
            await until(pilot, lambda: cell(app, leiden, "alerts") == "▲ 1 firing")
            assert cell(app, zwolle, "alerts") == "✔ none"
            # The filter finds tenants by an alert's name and by the PgBouncer cause.
            app.screen.apply_filter("cronstale")
            await until(pilot, lambda: app.screen.query_one(FleetTable).row_keys[-1:] == [
                f"tenant:{leiden}"])  # fmt: skip
            app.screen.apply_filter("pgbouncer")
            await until(pilot, lambda: app.screen.query_one(FleetTable).row_keys[-1:] == [
                f"tenant:{zwolle}"])  # fmt: skip
            app.screen.apply_filter("")

            await pilot.press("P")
            await until(pilot, lambda: isinstance(app.screen, PlatformScreen))
            await until(pilot, lambda: bool(app.screen.query("#certificates")))
            screen = app.screen
            await until(pilot, lambda: f"nc_{zwolle.replace('-', '_')}" in text_of(
                screen.query_one("#pgbouncer", Pane)))  # fmt: skip
            pgbouncer = text_of(screen.query_one("#pgbouncer", Pane))
            assert f"tenant {zwolle}:" in pgbouncer and "clients waiting" in pgbouncer
            assert "max_client_conn" in pgbouncer
            assert "memory" in text_of(screen.query_one("#redis", Pane))
            alerts = text_of(screen.query_one("#alerts", Pane))
            # Platform-wide alerts first: they are everyone's.
            assert alerts.index(platform_alert["alertname"]) < alerts.index("NextcloudCronStale")
            assert "(platform)" in alerts
            assert "Certificates" in text_of(screen.query_one("#certificates", Pane))
            await pilot.press("escape")

            app.open_tenant(zwolle)
            await until(pilot, lambda: isinstance(app.screen, TenantScreen))
            await until(pilot, lambda: bool(app.screen.query("#shared")))
            shared = app.screen.query_one("#shared", Pane)
            await until(pilot, lambda: "waiting" in text_of(shared))
            assert f"PgBouncer nc_{zwolle.replace('-', '_')}:" in text_of(shared)
            assert "certificate nextcloud-" in text_of(shared)
            summary = text_of(app.screen.query_one("#tenant-summary", Static))
            assert PGBOUNCER_WAITING in summary
            await pilot.press("escape")
            app.open_tenant(leiden)
            await until(pilot, lambda: isinstance(app.screen, TenantScreen))
            await until(pilot, lambda: bool(app.screen.query("#shared")))
            pane = app.screen.query_one("#alerts", Pane)
            await until(pilot, lambda: "NextcloudCronStale" in text_of(pane))
            text = text_of(pane)
            assert "warning" in text and "firing" in text and "ago" in text
            assert "NextcloudCronStale fired" in text  # the summary annotation


async def test_silence_a_tenant_from_the_console_then_expire_it(
    real_platform, tmp_path, monkeypatch
):
    zwolle, leiden = names()
    tenants = [{"name": zwolle, "wave": 1, "replicas": 1}, {"name": leiden, "wave": 1}]
    url = real_platform.alertmanager_url
    alert = {"alertname": "NextcloudDown", "severity": "critical", "namespace": f"nc-{zwolle}"}
    try:
        with firing(url, alert):
            async with console(real_platform, tmp_path, monkeypatch, tenants) as (app, pilot, _):
                await until(pilot, lambda: cell(app, zwolle, "alerts") == "✖ 1 firing")
                assert app.screen.select_tenant(zwolle)
                await pilot.press("m")
                await until(pilot, lambda: isinstance(app.screen, SilenceScreen))
                dialog = app.screen
                details = text_of(dialog.query_one("#silence-details", Static))
                assert f'matchers: namespace="nc-{zwolle}"' in details
                # A bad length is said in the dialog; nothing is created.
                dialog.query_one("#silence-for", Input).value = "5s"
                await pilot.press(*"restarting pgbouncer", "enter")
                error = text_of(dialog.query_one("#silence-error", Static))
                assert "'5s' is out of range" in error and isinstance(app.screen, SilenceScreen)
                dialog.query_one("#silence-for", Input).value = "45m"
                await pilot.press("enter")
                await until(pilot, lambda: not isinstance(app.screen, SilenceScreen))
                await until(pilot, lambda: cell(app, zwolle, "alerts") == "○ 1 muted", 30)
                await until(pilot, lambda: cell(app, zwolle, "health") != "✖ degraded", 30)

                created = silences_in_alertmanager(url, zwolle)
                assert len(created) == 1 and created[0]["comment"] == "restarting pgbouncer"
                assert created[0]["createdBy"].startswith("ncconsole:")
                audit = [e for e in read_audit() if e["action"] == "silence.create"]
                assert audit[-1]["result"] == "ok" and audit[-1]["target"] == f"tenant {zwolle}"
                assert f'namespace="nc-{zwolle}"' in audit[-1]["args"]["matchers"]

                await pilot.press("P")
                await until(pilot, lambda: isinstance(app.screen, PlatformScreen))
                screen = app.screen
                await until(pilot, lambda: created[0]["id"] in screen.silences)
                screen.table.move_cursor(row=screen._silence_ids.index(created[0]["id"]))
                await pilot.press("x")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                assert f'namespace="nc-{zwolle}"' in app.screen.question
                await pilot.press("y")
                await until(pilot, lambda: not silences_in_alertmanager(url, zwolle), 30)
                await until(pilot, lambda: created[0]["id"] not in screen.silences, 30)
                expired = [e for e in read_audit() if e["action"] == "silence.expire"]
                assert expired[-1]["result"] == "ok"
                assert expired[-1]["target"] == f"tenant {zwolle}"
    finally:
        expire_silences(url, f"nc-{zwolle}")


async def test_maintenance_mode_on_offers_to_silence_the_tenant(
    real_platform, tmp_path, monkeypatch
):
    zwolle, leiden = names()
    tenants = [{"name": zwolle, "wave": 1, "replicas": 1}, {"name": leiden, "wave": 1}]
    url = real_platform.alertmanager_url
    try:
        async with console(real_platform, tmp_path, monkeypatch, tenants) as (app, pilot, sim):
            await until(pilot, lambda: cell(app, zwolle, "health") == "✔ healthy")
            assert app.screen.select_tenant(zwolle)
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, OccScreen))
            await pilot.press(*"maintenance:mode --on", "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, SilenceScreen), 60)
            dialog = app.screen
            assert "in maintenance mode now" in text_of(dialog.query_one("#silence-title", Static))
            comment = dialog.query_one("#silence-comment", Input).value
            assert comment == "maintenance (occ maintenance:mode --on)"
            await pilot.press("enter")
            await until(pilot, lambda: bool(silences_in_alertmanager(url, zwolle)), 30)
            silence = silences_in_alertmanager(url, zwolle)[0]
            assert silence["comment"] == comment
            assert sim.call(lambda: sim.instance(zwolle).maintenance)
    finally:
        expire_silences(url, f"nc-{zwolle}")


async def test_read_only_hides_the_silence_keys(real_platform, tmp_path, monkeypatch):
    zwolle, leiden = names()
    tenants = [{"name": zwolle, "wave": 1, "replicas": 1}, {"name": leiden, "wave": 1}]
    async with console(real_platform, tmp_path, monkeypatch, tenants, read_only=True) as (
        app,
        pilot,
        _,
    ):
        await until(pilot, lambda: bool(cell(app, zwolle, "alerts")))
        assert app.screen.select_tenant(zwolle)
        assert "silence" not in {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("m")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, SilenceScreen)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PlatformScreen))
        assert "expire" not in {b.binding.action for b in app.screen.active_bindings.values()}


async def test_unreachable_and_not_configured_components_say_so(tmp_path, monkeypatch):
    """No real servers: PgBouncer's pod refuses the forwarded port (its reason is shown),
    Redis has no Service, Alertmanager is not configured; the rest of the screen works."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    tenants = [{"name": "canary", "wave": 0, "replicas": 1}]
    with simulator(tmp_path / "sim", tenants) as sim:
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
        loaded = load_settings()
        platform = loaded.platform.model_copy(update={
            "interval": 2,
            "pgbouncer": loaded.platform.pgbouncer.model_copy(update={"service": "pgbouncer"}),
            "redis": loaded.platform.redis.model_copy(update={"service": "no-such-redis"}),
        })  # fmt: skip
        loaded = loaded.model_copy(update={"platform": platform})
        fleet = FleetState(loaded, platform_reader=platform_reader(loaded))
        app = make_app(fleet, loaded, platform_note="not part of this test")
        async with app.run_test(size=SIZE) as pilot:
            strip = app.screen.query_one(PlatformStrip)
            await until(pilot, lambda: "read " in text_of(strip), 60)
            line = text_of(strip)
            assert "PgBouncer ? unreachable (connection refused)" in line
            assert "Redis ? unreachable (Service nc-platform/no-such-redis not found)" in line
            assert "Alerts – not part of this test" in line
            assert "Certs ✔ 1 valid" in line
            assert cell(app, "canary", "alerts") == "– n/a"
            await until(pilot, lambda: cell(app, "canary", "health") == "✔ healthy", 60)
            await pilot.press("P")
            await until(pilot, lambda: isinstance(app.screen, PlatformScreen))
            pgbouncer = app.screen.query_one("#pgbouncer", Pane)
            await until(pilot, lambda: "error forwarding port" in text_of(pgbouncer))
            assert "not part of this test" in text_of(app.screen.query_one("#alerts", Pane))
