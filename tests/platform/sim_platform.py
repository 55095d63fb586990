"""A simulator for the platform tests, optionally with the session's real servers behind its
platform pods, and the console settings and CLI runs that go with it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.settings import load_settings
from ncconsole.sim.platform_load import DatabaseAccess
from ncconsole.sim.platform_services import PlatformServers, RealServer
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator


def servers_of(platform: Any, *, clients: bool = False) -> PlatformServers:
    """The real servers of conftest's `real_platform`, as the simulator takes them; with
    `clients` the simulated tenants are PgBouncer clients too (platform_load.py)."""
    port = int(platform.alertmanager_url.rsplit(":", 1)[1])
    database = DatabaseAccess(
        postgres_port=platform.postgres_port, pgbouncer_port=platform.pgbouncer_port,
        user=platform.pgbouncer_client_user, password=platform.pgbouncer_client_password,
        max_client_conn=platform.pgbouncer_max_client_conn,
        pool_size=platform.pgbouncer_pool_size,
    )  # fmt: skip
    return PlatformServers(
        pgbouncer=RealServer(
            "127.0.0.1", platform.pgbouncer_port, platform.pgbouncer_admin_user,
            platform.pgbouncer_admin_password,
        ),
        redis=RealServer("127.0.0.1", platform.redis_port, "", platform.redis_password),
        alertmanager=RealServer("127.0.0.1", port),
        database=database if clients else None,
    )  # fmt: skip


@contextmanager
def simulator(
    workdir: Path, tenants: list[dict[str, Any]], servers: PlatformServers | None = None
) -> Iterator[Simulator]:
    scenario = Scenario.model_validate({"tenants": tenants})
    with Simulator(scenario, workdir=workdir, platform_servers=servers) as sim:
        yield sim


def console_connection(sim: Simulator, monkeypatch: Any) -> tuple[Any, KubeConnection]:
    """The settings the simulator wrote for the console, and a connection with them."""
    monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
    settings = load_settings()
    return settings, connect(settings)


def run_cli(sim: Simulator, *args: str, env: dict[str, str] | None = None):
    environment = {**os.environ, "NCCONSOLE_CONFIG": str(sim.config_path), **(env or {})}
    environment.pop("KUBECONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        env=environment, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def post_alerts(url: str, *alerts: dict[str, str], ends_in: timedelta = timedelta(minutes=30)):
    """Send alerts to Alertmanager as Prometheus does; an end in the past resolves them."""
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} fired"},
            "startsAt": (now - timedelta(minutes=3)).isoformat(),
            "endsAt": (now + ends_in).isoformat(),
        }
        for labels in alerts
    ]
    httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()


@contextmanager
def firing(url: str, *alerts: dict[str, str]) -> Iterator[None]:
    """Alerts firing for the block; resolved after it (the Alertmanager is the session's)."""
    post_alerts(url, *alerts)
    try:
        yield
    finally:
        post_alerts(url, *alerts, ends_in=-timedelta(seconds=1))


def expire_silences(url: str, matcher_value: str) -> None:
    """Expire the session Alertmanager's silences naming `matcher_value` (a test's leftovers)."""
    for silence in httpx.get(f"{url}/api/v2/silences", timeout=10).json():
        named = any(m.get("value") == matcher_value for m in silence.get("matchers") or ())
        if named and silence["status"]["state"] != "expired":
            httpx.delete(f"{url}/api/v2/silence/{silence['id']}", timeout=10)
