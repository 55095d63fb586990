"""`ncconsole demo` in a real terminal (tmux): what a new user sees, read off the screen, with
the real platform servers behind it when they are installed (scripts/platform-servers.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ncconsole.sim.scenario import demo_scenario

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


class Terminal:
    """A tmux session on a private socket, so no other tmux server is touched."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        # os.environ, not the process's C-level environment: under pytest the latter carries
        # COLUMNS=80/LINES=24, which the console would take over the pane's real size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
            env=env,
        )  # fmt: skip

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "console").stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "console", *keys)

    def running(self) -> bool:
        return self.tmux("has-session", "-t", "console").returncode == 0

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not seen in {timeout:g}s; screen:\n{self.screen()}")
            time.sleep(0.1)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"ncconsole-test-{os.getpid()}-{time.monotonic_ns()}")
    yield term
    term.tmux("kill-server")


def test_demo_shows_the_fleet_with_its_degraded_tenant_and_quits_on_q(terminal, tmp_path):
    env = {"XDG_CONFIG_HOME": tmp_path / "config", "XDG_STATE_HOME": tmp_path / "state"}
    command = f"{sys.executable} -m ncconsole demo --workdir {tmp_path / 'demo'}"
    terminal.tmux(
        "new-session", "-d", "-s", "console", "-x", "140", "-y", "34",
        *(f"-e{key}={value}" for key, value in env.items()), command,
    )  # fmt: skip
    names = [tenant.name for tenant in demo_scenario().tenants]
    degraded = next(t.name for t in demo_scenario().tenants if t.faults.stale_crashloop)

    def degraded_line() -> str:
        return next((line for line in terminal.screen().splitlines() if degraded in line), "")

    terminal.wait(lambda: "✖ degraded" in degraded_line(), 30, f"{degraded} degraded")
    screen = terminal.screen()
    assert all(name in screen for name in names)
    assert "▼ wave 0 (canary)" in screen and "▼ wave 3" in screen

    terminal.keys("/", *degraded[:6], "Enter")
    terminal.wait(lambda: "gemeente-" not in terminal.screen(), 5, "the filtered fleet")
    assert degraded in terminal.screen()

    terminal.keys("q")
    terminal.wait(lambda: not terminal.running(), 15, "the console quitting")


def start_demo(terminal: Terminal, tmp_path: Path, size: tuple[int, int], *flags: str,
               env: dict[str, str] | None = None) -> None:  # fmt: skip
    # COLUMNS and LINES as the window is: the test process may carry others (80x24 from a
    # plugin), and a console that believes them lays out for the wrong terminal.
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "COLUMNS": str(size[0]), "LINES": str(size[1]), **(env or {})}  # fmt: skip
    command = f"{sys.executable} -m ncconsole {' '.join(flags)} demo --workdir {tmp_path / 'w'}"
    terminal.tmux(
        "new-session", "-d", "-s", "console", "-x", str(size[0]), "-y", str(size[1]),
        *(f"-e{key}={value}" for key, value in env.items()), command,
    )  # fmt: skip


def line_of(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if line.startswith(name)), "")


DEGRADED = next(t.name for t in demo_scenario().tenants if t.faults.stale_crashloop)
MAINTENANCE = next(t.name for t in demo_scenario().tenants if t.faults.maintenance)


def wait_for_the_demo(terminal: Terminal) -> None:
    """Until the crash loop's reason and the probed maintenance mode are on the screen."""
    terminal.wait(lambda: "CrashLoopBackOff" in line_of(terminal.screen(), DEGRADED), 40,
                  "the crash loop's reason")  # fmt: skip
    terminal.wait(lambda: "⚠ maintenance" in line_of(terminal.screen(), MAINTENANCE), 30,
                  "the maintenance state (from status.php)")  # fmt: skip


def test_demo_at_140x42_the_columns_fit_with_the_reasons_and_sorts(terminal, tmp_path):
    start_demo(terminal, tmp_path, (140, 42))
    wait_for_the_demo(terminal)
    screen = terminal.screen()
    header = line_of(screen, "TENANT").split()
    # Every column but PROBED, the first to go: the ALERTS column took its room beside the
    # demo's 29-character tenant names.
    columns = ["TENANT", "HEALTH", "REASON", "ALERTS", "SYNC", "SMOKE", "PODS", "RST", "VER",
               "S3", "ENV"]  # fmt: skip
    assert header in (columns, [*columns, "PROBED"]), screen
    assert all(len(line) <= 140 for line in screen.splitlines())
    maintenance = line_of(screen, MAINTENANCE)
    assert "⚠ maintenance" in maintenance and "maintenance on" in maintenance
    assert " ncconsole-sim " in screen.splitlines()[0]  # the context badge
    assert "1 degraded · 1 maintenance" in screen.splitlines()[1]

    terminal.keys("H")  # problems first: the crash loop heads its wave
    terminal.wait(lambda: "sort: problems first" in terminal.screen(), 5, "the sort")
    lines = terminal.screen().splitlines()
    wave = next(i for i, line in enumerate(lines) if line.startswith("▼ wave 2"))
    assert lines[wave + 1].startswith(DEGRADED)

    terminal.keys("/", *"wave:9", "Enter")
    terminal.wait(lambda: "no tenant matches 'wave:9'" in terminal.screen(), 5, "no match")
    terminal.keys("Escape")
    # Its row, not the platform strip's line that names it too.
    terminal.wait(lambda: line_of(terminal.screen(), DEGRADED), 5, "the fleet again")
    terminal.keys("q")
    terminal.wait(lambda: not terminal.running(), 30, "the console quitting")


def test_demo_at_80x24_read_only_with_no_color_stays_readable(terminal, tmp_path):
    start_demo(terminal, tmp_path, (80, 24), "--read-only", env={"NO_COLOR": "1"})
    wait_for_the_demo(terminal)
    terminal.wait(lambda: "PgBouncer ✖" in terminal.screen(), 30, "the platform strip")
    screen = terminal.screen()
    assert "READ-ONLY" in screen.splitlines()[0]
    assert line_of(screen, "TENANT").split() == ["TENANT", "HEALTH", "REASON"]
    # Errors in reverse video, warnings underlined; no colour at all.
    coloured = terminal.tmux("capture-pane", "-p", "-e", "-t", "console").stdout
    plain = screen.splitlines()
    degraded = coloured.splitlines()[plain.index(line_of(screen, DEGRADED))]
    assert "\x1b[1;7m✖ degraded" in degraded and "38;5;237" not in degraded
    # The platform strip's problem too (it named its styles before NO_COLOR was read).
    strip = next(line for line in coloured.splitlines() if "PgBouncer" in line)
    assert "7m✖" in strip and "237m✖" not in strip
    maintenance = next(line for line in coloured.splitlines() if MAINTENANCE in line)
    assert "\x1b[4m⚠ maintenance" in maintenance

    terminal.keys("w")  # read-only: no key that would be refused
    terminal.wait(lambda: "r Refresh" in terminal.screen(), 10, "the waves screen's footer")
    footer = next(line for line in terminal.screen().splitlines() if "r Refresh" in line)
    assert "Promote" not in footer and "Force" not in footer and "Halt" not in footer

    terminal.keys("Escape")  # alone: ESC right before another key reads as alt+key
    terminal.wait(lambda: "H Problems first" in terminal.screen(), 5, "the fleet again")
    terminal.keys("/", *DEGRADED[:8], "Enter")
    terminal.wait(lambda: line_of(terminal.screen(), "TENANT") and terminal.screen().count(
        "▼ wave") == 1, 5, "the filtered fleet")  # fmt: skip
    terminal.keys("Enter")
    terminal.wait(lambda: "Pods" in terminal.screen(), 10, "the tenant's detail")
    pods = [line for line in terminal.screen().splitlines() if line.startswith("│ nextcloud-")]
    assert len(pods) == 2 and not any("…" in line[:22] for line in pods)  # names never cut
    terminal.keys("q")
    terminal.wait(lambda: not terminal.running(), 30, "the console quitting")


def test_demo_with_the_real_platform_shows_pgbouncer_saturated_an_alert_and_a_silence(
    terminal, tmp_path
):
    """With the real PgBouncer, Redis and Alertmanager installed, the demo's broken tenant
    queues at PgBouncer, its crash loop is alerted, and a silence made with `m` reaches the
    Alertmanager and mutes the tenant's ALERTS cell."""
    from ncconsole.cli.demo_platform import servers_installed

    if not servers_installed():
        if os.environ.get("CI") == "true":
            pytest.fail("the platform servers must be installed in CI (.ci/run installs them)")
        pytest.skip("needs the platform servers: sudo scripts/platform-servers.sh install")
    env = {"XDG_CONFIG_HOME": tmp_path / "config", "XDG_STATE_HOME": tmp_path / "state"}
    workdir = tmp_path / "demo"
    command = f"{sys.executable} -m ncconsole demo --workdir {workdir}"
    terminal.tmux(
        "new-session", "-d", "-s", "console", "-x", "140", "-y", "34",
        *(f"-e{key}={value}" for key, value in env.items()), command,
    )  # fmt: skip
    broken = next(t.name for t in demo_scenario().tenants if t.faults.pgbouncer_saturated)

    def line_of(name: str) -> str:
        """The tenant's row (the strip names the tenant too)."""
        rows = terminal.screen().splitlines()
        return next((line for line in rows if line.startswith(f"{name} ")), "")

    terminal.wait(lambda: "PgBouncer saturated" in terminal.screen(), 60, "PgBouncer saturated")
    # Who waits is named. Which tenant it is at a given moment depends on the crash loop: the
    # broken tenant's pods restart and drop their queued clients, and its neighbours on the
    # saturated pool queue meanwhile (seen with a second copy of the suite beside this one).
    # Whose pool a waiting client belongs to is checked on the real PgBouncer in
    # tests/platform; here, that the strip names one of the demo's tenants.
    names = [t.name for t in demo_scenario().tenants]
    terminal.wait(
        lambda: any(f"waiting ({name}" in terminal.screen() for name in names), 30, "who waits"
    )
    terminal.wait(lambda: "max_client_conn 30/30" in terminal.screen(), 30, "max_client_conn")
    # Its pods crash-loop, so the simulator's Prometheus rules fire KubePodCrashLooping on it.
    terminal.wait(lambda: "firing" in line_of(broken), 60, f"an alert on {broken}")

    terminal.keys("/", *broken[:12], "Enter")
    terminal.wait(lambda: "gemeente-" not in terminal.screen(), 5, "the filtered fleet")
    terminal.keys("m")
    terminal.wait(lambda: f'namespace="nc-{broken}"' in terminal.screen(), 10, "the matchers")
    terminal.keys("-l", "on call: pgbouncer pool held")
    terminal.keys("Enter")
    terminal.wait(lambda: "muted" in line_of(broken), 30, "the silenced alerts")

    values = dict(
        line.split("=", 1)
        for line in (workdir / "platform-servers" / "platform.env").read_text().splitlines()
        if "=" in line
    )
    silences = httpx.get(f"{values['NCCONSOLE_ALERTMANAGER_URL']}/api/v2/silences", timeout=10)
    ours = [s for s in silences.json() if s["comment"] == "on call: pgbouncer pool held"]
    assert [m["value"] for m in ours[0]["matchers"]] == [f"nc-{broken}"]

    terminal.keys("q")
    terminal.wait(lambda: not terminal.running(), 30, "the console quitting")
    assert not (workdir / "platform-servers" / "platform.env").exists()  # servers stopped


@pytest.mark.timeout(180)
def test_demo_find_the_degraded_tenant_read_its_previous_logs_restart_it_see_it_ready(
    terminal, tmp_path
):
    env = {"XDG_CONFIG_HOME": tmp_path / "config", "XDG_STATE_HOME": tmp_path / "state"}
    command = f"{sys.executable} -m ncconsole demo --workdir {tmp_path / 'demo'}"
    terminal.tmux(
        "new-session", "-d", "-s", "console", "-x", "140", "-y", "42",
        *(f"-e{key}={value}" for key, value in env.items()), command,
    )  # fmt: skip
    crashing = next(t.name for t in demo_scenario().tenants if t.faults.stale_crashloop)

    def row() -> str:
        return next((line for line in terminal.screen().splitlines() if crashing in line), "")

    # Find it: degraded on the fleet, then its detail through the palette.
    terminal.wait(lambda: "✖ degraded" in row(), 40, f"{crashing} degraded")
    terminal.keys(":")
    terminal.wait(lambda: "Search for commands" in terminal.screen() or ">" in terminal.screen(),
                  5, "the command palette")  # fmt: skip
    terminal.keys(*crashing[:10])
    terminal.wait(lambda: f"Tenant: {crashing}" in terminal.screen(), 10, "the tenant command")
    terminal.keys("Enter")
    terminal.wait(lambda: f"namespace nc-{crashing}" in terminal.screen(), 10, "its detail")
    terminal.wait(lambda: "CrashLoopBackOff" in terminal.screen(), 20, "the crash-looping pods")

    # Why: the previous run's log says PgBouncer refused the connection.
    terminal.keys("p")
    terminal.wait(lambda: "max_client_conn" in terminal.screen(), 20, "the previous logs")
    assert "previous run" in terminal.screen()
    terminal.keys("Escape")
    terminal.wait(lambda: f"namespace nc-{crashing}" in terminal.screen(), 10, "the detail")

    # Fix: restart, confirm, follow until the new pods are Ready.
    terminal.keys("r")
    terminal.wait(lambda: f"Restart tenant {crashing}?" in terminal.screen(), 15, "the question")
    terminal.keys("y")
    terminal.wait(
        lambda: "successfully rolled out" in terminal.screen(), 90, "the rollout finished"
    )

    def pod_rows() -> list[str]:
        return [
            line for line in terminal.screen().splitlines()
            if line.strip("│ ").startswith("nextcloud-")
        ]  # fmt: skip

    terminal.wait(
        lambda: len(pod_rows()) == 2 and all("✔ yes" in line for line in pod_rows()),
        30, "both new pods Ready",
    )  # fmt: skip
    # The pods no longer crash (the Alerts and events panes may still remember that they did).
    assert not any("CrashLoopBackOff" in line for line in pod_rows())

    terminal.keys("q")
    terminal.wait(lambda: not terminal.running(), 20, "the console quitting")
