"""The real-Kubernetes tier: one control plane (scripts/realk8s.sh up) for all its tests.

In CI (CI=true), or with NCCONSOLE_REALK8S=1, a control plane that cannot be built or started
fails these tests. Elsewhere they are skipped with one line saying how to run them: without Go,
or while the binaries are not built yet (the first build takes tens of minutes, so a plain
`uv run pytest` never starts one). With NCCONSOLE_REALK8S_DIR naming a folder where
`scripts/realk8s.sh up` already runs, the tests use that control plane and leave it running.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realk8s.cluster import RealCluster, script

HERE = Path(__file__).resolve().parent
HOW_TO_RUN = (
    "real Kubernetes tier: run `scripts/realk8s.sh build` once (Go >= 1.26, ~5-12 min), "
    "then `uv run pytest -m realk8s` (or set NCCONSOLE_REALK8S=1)"
)
# Building from a cold cache happens inside the first test's fixture when CI asks for it.
FIRST_TEST_TIMEOUT = 3600
TEST_TIMEOUT = 300


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("NCCONSOLE_REALK8S") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    first = True
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.realk8s)
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(FIRST_TEST_TIMEOUT if first else TEST_TIMEOUT))
        first = False


def _built() -> bool:
    # `build` returns at once when the cached binaries match the pinned module files.
    return script("built").returncode == 0


# Package scope: the control plane stops as soon as this tier is done, not at the end of the
# whole suite.
@pytest.fixture(scope="package")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealCluster]:
    existing = os.environ.get("NCCONSOLE_REALK8S_DIR")
    if existing and (Path(existing) / "realk8s.env").is_file():
        yield RealCluster.from_env_file(Path(existing) / "realk8s.env")
        return
    required = _required()
    if not required:
        if shutil.which("go") is None and not Path("/usr/local/go/bin/go").exists():
            pytest.skip(f"Go is not installed; {HOW_TO_RUN}")
        if not _built():
            pytest.skip(f"control plane not built; {HOW_TO_RUN}")
    directory = tmp_path_factory.mktemp("realk8s")
    env = {"NCCONSOLE_REALK8S_WATCH_PID": str(os.getpid())}
    started = script("up", str(directory), env=env, timeout=FIRST_TEST_TIMEOUT - 60)
    if started.returncode != 0:
        log = "\n".join(started.stderr.strip().splitlines()[-15:])
        pytest.fail(f"scripts/realk8s.sh up failed (exit {started.returncode}):\n{log}")
    try:
        yield RealCluster.from_env_file(directory / "realk8s.env")
    finally:
        script("down", str(directory), timeout=120)
