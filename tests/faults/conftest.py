"""The fault suite: the console against a simulated platform that breaks in one way per test.

Helpers start a small `Simulator` (fast timings), point the console's settings at it, run a
live FleetState on it and wait for conditions with a deadline (never a bare sleep).
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.fleet.state import FleetState
from ncconsole.kube.watch import WatchTiming
from ncconsole.settings import Settings
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
FAST = WatchTiming(
    watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.3,
    heartbeat_seconds=0.3, heartbeat_timeout=0.5,
)  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own config, audit log and keys never leak into a test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for var in ("NCCONSOLE_CONFIG", "NCCONSOLE_KEYMAP", "KUBECONFIG", "NCCONSOLE_READ_ONLY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("NCCONSOLE_S3_ACCESS_KEY", "NCCONSOLE_S3_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)


def scenario(tenants: list[dict[str, Any]], **extra: Any) -> Scenario:
    return Scenario.model_validate({"tenants": tenants, **extra})


@contextmanager
def simulator(workdir: Path, tenants: list[dict[str, Any]], **extra: Any) -> Iterator[Simulator]:
    with Simulator(scenario(tenants, **extra), workdir=workdir) as sim:
        yield sim


def sim_settings(sim: Simulator, **overrides: Any) -> Settings:
    """The console's settings for `sim`, as its config.yaml says (built explicitly here);
    `overrides` of a section (web, s3) change only the keys they name."""
    values: dict[str, Any] = {
        "repo": sim.repo,
        "kubeconfig": sim.kubeconfig,
        "web": {"connect_to": sim.web_address, "ca_file": sim.ca_file, "timeout": 2.0},
        "s3": {"endpoint": sim.s3_endpoint, "timeout": 2.0},
    }
    for key, value in overrides.items():  # sections are merged, not replaced
        values[key] = values[key] | value if isinstance(values.get(key), dict) else value
    return Settings(**values)


def live_fleet(settings: Settings, *, probes: bool = False, **timing: Any) -> FleetState:
    """A started FleetState with fast watch timings; stop it when done."""
    state = FleetState(settings, timing=replace(FAST, **timing), probes=probes, repo_poll=0.3)
    state.start()
    return state


def complete(snapshot: FleetSnapshot) -> bool:
    return snapshot.complete and snapshot.api_reachable


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """`python -m ncconsole ARGS` as a user runs it; the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_on_pty(*args: str, timeout: float = 60) -> tuple[int, str]:
    """`python -m ncconsole ARGS` on a pseudo-terminal, as a user starts the console;
    (exit code, everything it wrote). For commands that end by themselves."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes ncconsole
        os.chdir(ROOT)
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "ncconsole", *args])
    output, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def assert_one_line_error(stderr: str, *needles: str) -> str:
    """stderr is exactly one `ncconsole: ...` line containing every needle; no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


async def wait_ui(pilot: Any, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the headless app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def assert_keys_answered_while(
    pilot: Any,
    widget: Any,
    attribute: str,
    during: Callable[[], object],
    keys: tuple[str, str] = ("j", "k"),
    presses: int = 10,
) -> None:
    """Each key press is handled - it changes `widget.attribute` (e.g. a table's cursor) -
    while `during()` still holds (the API still down or slow, occ still streaming): the
    console answers keys during the fault, not after it. No latency is asserted: that is
    measured, on a machine at rest, by benchmarks/key_latency.py. The keys alternate (down,
    up) so every press changes the attribute."""
    handled: list[bool] = []
    pilot.app.watch(widget, attribute, lambda *_: handled.append(bool(during())), init=False)
    for i in range(presses):
        seen = len(handled)
        await pilot.press(keys[i % 2])
        await wait_ui(pilot, lambda seen=seen: len(handled) > seen, 30)
    late = handled.count(False)
    assert not late, f"{late} of {presses} key presses were handled only after the fault ended"
