"""A simulator for the platform tests, optionally with the session's real servers behind its
platform pods, and the console settings and CLI runs that go with it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.settings import load_settings
from ncconsole.sim.platform_services import PlatformServers, RealServer
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator


def servers_of(platform: Any) -> PlatformServers:
    """The real servers of conftest's `real_platform`, as the simulator takes them."""
    port = int(platform.alertmanager_url.rsplit(":", 1)[1])
    return PlatformServers(
        pgbouncer=RealServer(
            "127.0.0.1", platform.pgbouncer_port, platform.pgbouncer_admin_user,
            platform.pgbouncer_admin_password,
        ),
        redis=RealServer("127.0.0.1", platform.redis_port, "", platform.redis_password),
        alertmanager=RealServer("127.0.0.1", port),
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
