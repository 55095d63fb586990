"""What the session fixtures of the real servers share (Ceph RGW in tests/probes, PostgreSQL +
PgBouncer, Redis and Alertmanager in tests/platform): running their start script with a watchdog
on this pytest, reading the env file it writes, whether CI requires them, and a closing line in
the test log saying how their tests went (-q prints no test names)."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
# Installing the Debian packages takes 15-30 s and a cold start up to ~15 s on an idle machine;
# the machine may be shared, so leave room.
START_TIMEOUT = 300


def required(flag: str) -> bool:
    """Whether a failure to start must fail the tests: in CI, or when `flag`=1 asks for it."""
    return os.environ.get("CI") == "true" or os.environ.get(flag) == "1"


def read_env_file(path: Path) -> dict[str, str]:
    """The NAME=value lines a start script writes for the tests."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_script(script: str, watch_variable: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`scripts/<script> args...`; the watchdog it leaves stops the servers if this pytest dies
    without its teardown."""
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env={**os.environ, watch_variable: str(os.getpid())},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


class ServerTests:
    """One kind of real server: its start script, and the closing line about its tests."""

    def __init__(self, script: str, watch_variable: str, fixture: str, title: str) -> None:
        self.script, self.watch_variable = script, watch_variable
        self.fixture, self.title = fixture, title
        self.started_in = ""
        self.tests: set[str] = set()
        self.outcomes: Counter[str] = Counter()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_script(self.script, self.watch_variable, *args)

    @contextmanager
    def running(self, directory: Path, what: str) -> Iterator[None]:
        """Start the servers into `directory` (a failure fails the test), stop them after."""
        try:
            began = time.monotonic()
            started = self.run("start", str(directory))
            if started.returncode != 0:
                pytest.fail(f"could not start {what}:\n{started.stderr[-3000:]}", pytrace=False)
            self.started_in = f"{time.monotonic() - began:.1f} s"
            yield
        finally:
            self.run("stop", str(directory))

    # The pytest hooks of the conftest that owns the fixture call these.
    def collected(self, items: list[pytest.Item]) -> None:
        self.tests.update(i.nodeid for i in items if self.fixture in getattr(i, "fixturenames", ()))

    def reported(self, report: pytest.TestReport) -> None:
        if report.nodeid in self.tests and (report.when == "call" or report.outcome != "passed"):
            self.outcomes[report.outcome] += 1

    def summary(self, terminalreporter: pytest.TerminalReporter, started: str) -> None:
        if self.outcomes:
            counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
            when = f"; {started} {self.started_in}" if self.started_in else ""
            terminalreporter.write_line(f"{self.title}: {counts}{when}")
