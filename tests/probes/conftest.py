"""A real Ceph RGW for the S3 probe's tests, started once per session by scripts/rgw-up.sh.

In CI (CI=true), or with NCCONSOLE_RGW=1, the script installs Ceph when it is missing and a
failure to start RGW fails the tests. On a developer machine without Ceph they are skipped
with the command that makes them run.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.real_servers import ServerTests, read_env_file, required

HOW_TO_RUN = (
    "Ceph RGW is not installed: run `sudo scripts/rgw-up.sh install` once, or run the tests "
    "as root with NCCONSOLE_RGW=1 to let them install it"
)
RGW = ServerTests("rgw-up.sh", "NCCONSOLE_RGW_WATCH_PID", "real_rgw", "real Ceph RGW tests")


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
        values = read_env_file(path)
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
        RGW.run("stop", str(self.directory), "rgw")

    def start(self) -> None:
        """Start whatever of the cluster is not running (after `stop_rgw`: RGW alone)."""
        RGW.run("start", str(self.directory))


@pytest.fixture(scope="session")
def real_rgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRgw]:
    if shutil.which("radosgw") is None and not required("NCCONSOLE_RGW"):
        pytest.skip(HOW_TO_RUN)
    directory = tmp_path_factory.mktemp("rgw")
    with RGW.running(directory, "Ceph RGW"):
        yield RealRgw.from_env_file(directory / "rgw.env")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    RGW.collected(items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    RGW.reported(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    RGW.summary(terminalreporter, "RGW started in")
