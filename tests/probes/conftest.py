"""A real Ceph RGW for the S3 probe's tests, started once per session by scripts/rgw-up.sh.

In CI (CI=true), or with NCCONSOLE_RGW=1, the script installs Ceph when it is missing and a
failure to start RGW fails the tests. On a developer machine without Ceph they are skipped
with the command that makes them run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rgw-up.sh"
# Installing the Debian packages takes ~20 s and a cold start ~15 s on an idle machine; the
# machine may be shared, so leave room.
START_TIMEOUT = 300
HOW_TO_RUN = (
    "Ceph RGW is not installed: run `sudo scripts/rgw-up.sh install` once, or run the tests "
    "as root with NCCONSOLE_RGW=1 to let them install it"
)


@dataclass(frozen=True)
class RealRgw:
    """A running RGW: its endpoint, the keys of its one user, and the cluster's config."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    conf: Path
    directory: Path

    @classmethod
    def from_env_file(cls, path: Path) -> RealRgw:
        values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return cls(
            endpoint=values["NCCONSOLE_RGW_ENDPOINT"],
            access_key=values["NCCONSOLE_RGW_ACCESS_KEY"],
            secret_key=values["NCCONSOLE_RGW_SECRET_KEY"],
            conf=Path(values["NCCONSOLE_RGW_CONF"]),
            directory=Path(values["NCCONSOLE_RGW_DIR"]),
        )

    def admin(self, *args: str) -> str:
        """Run `radosgw-admin` on this cluster; its stdout."""
        result = subprocess.run(
            ["radosgw-admin", "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"radosgw-admin {' '.join(args)}: {result.stderr[-2000:]}"
        return result.stdout

    def stop_rgw(self) -> None:
        _script("stop", str(self.directory), "rgw")

    def start(self) -> None:
        """Start whatever of the cluster is not running (after `stop_rgw`: RGW alone)."""
        _script("start", str(self.directory))


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        # A watchdog left by the script stops the daemons if this pytest dies without teardown.
        env={**os.environ, "NCCONSOLE_RGW_WATCH_PID": str(os.getpid())},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="session")
def real_rgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRgw]:
    required = os.environ.get("CI") == "true" or os.environ.get("NCCONSOLE_RGW") == "1"
    if shutil.which("radosgw") is None and not required:
        pytest.skip(HOW_TO_RUN)
    directory = tmp_path_factory.mktemp("rgw")
    try:
        began = time.monotonic()
        started = _script("start", str(directory))
        if started.returncode != 0:
            pytest.fail(f"could not start Ceph RGW:\n{started.stderr[-3000:]}", pytrace=False)
        _summary["started in"] = f"{time.monotonic() - began:.1f} s"
        yield RealRgw.from_env_file(directory / "rgw.env")
    finally:
        _script("stop", str(directory))


# A closing line in the test log saying how the real-RGW tests went (-q prints no test names).
_summary: dict[str, str] = {}
_rgw_tests: set[str] = set()
_outcomes: Counter[str] = Counter()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _rgw_tests.update(i.nodeid for i in items if "real_rgw" in getattr(i, "fixturenames", ()))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid in _rgw_tests and (report.when == "call" or report.outcome != "passed"):
        _outcomes[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _outcomes:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(_outcomes.items()))
        started = f"; RGW started in {_summary['started in']}" if _summary else ""
        terminalreporter.write_line(f"real Ceph RGW tests: {counts}{started}")
