"""The demo's shared platform: the real PostgreSQL + PgBouncer, Redis and Alertmanager of
scripts/platform-servers.sh when they are installed, started in the demo's working directory
and stopped with it; otherwise the demo runs without them and the console says plainly that
those components are not part of the demo.

The choice (issue 16): no stand-ins. A simulated PgBouncer admin console or Redis INFO would be
a second implementation of what the console must read from the real thing; the console's
platform panes show real servers or nothing. With the servers, the simulator's tenants are
PgBouncer clients and the demo's crash-looping tenant holds its pool until max_client_conn is
reached (sim/platform_load.py); the simulator sends Alertmanager the alerts Prometheus would
(sim/platform_alerts.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The script lives in the source tree (a clone; `uv run ncconsole demo`), not in the wheel.
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "platform-servers.sh"
SERVERS = ("pgbouncer", "redis-server", "prometheus-alertmanager")
# The demo's 12 tenants: 11 keep a client each, the broken one holds its pool of 2 and queues
# the rest; one slot stays free for the console's admin login (sim/platform_load.py).
DEMO_MAX_CLIENT_CONN = 30
START_TIMEOUT = 180
INSTALL_HINT = "sudo scripts/platform-servers.sh install"


@dataclass(frozen=True)
class DemoPlatform:
    """Where the demo's servers run (`env_file` for `sim --platform-env`), or why they do not
    (`note`, said in the console's platform strip instead of "not configured")."""

    directory: Path | None
    env_file: Path | None
    note: str


def servers_installed() -> bool:
    postgres = any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return postgres and all(shutil.which(name) for name in SERVERS)


def start_demo_platform(workdir: Path, wanted: bool | None) -> DemoPlatform:
    """Start the servers under `workdir` if wanted (None: when installed). Never raises: a
    failure is the note the console shows."""
    if wanted is False:
        return DemoPlatform(None, None, "not part of the demo (--no-platform-servers)")
    if not SCRIPT.exists():
        return DemoPlatform(None, None, "not part of the demo (needs a clone with scripts/)")
    if not servers_installed():
        return DemoPlatform(None, None, f"not part of the demo (not installed: {INSTALL_HINT})")
    directory = workdir / "platform-servers"
    env = {
        **os.environ,
        "NCCONSOLE_PLATFORM_WATCH_PID": str(os.getpid()),  # stopped if the demo dies
        "NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN": str(DEMO_MAX_CLIENT_CONN),
    }
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(directory)],
            env=env, capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as err:
        return DemoPlatform(directory, None, f"not part of the demo (did not start: {err})")
    env_file = directory / "platform.env"
    if done.returncode != 0 or not env_file.exists():
        lines = (done.stderr or done.stdout).strip().splitlines()
        why = lines[-1].removeprefix("platform-servers: ") if lines else f"exit {done.returncode}"
        return DemoPlatform(directory, None, f"not part of the demo (did not start: {why})")
    return DemoPlatform(directory, env_file, "")


def stop_demo_platform(platform: DemoPlatform) -> None:
    if platform.directory is None or not SCRIPT.exists():
        return
    subprocess.run(
        ["bash", str(SCRIPT), "stop", str(platform.directory)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
