"""`ncconsole logs` in a real process against the simulator: every pod interleaved with its
name, --previous showing the crash, --tail/--since/--timestamps/--format json, --follow
picking up new lines until Ctrl-C, and one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "calm", "wave": 0, "replicas": 2},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"stale_crashloop": True}},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path_factory.mktemp("sim")) as s:
        yield s


def env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")},
        "NCCONSOLE_CONFIG": str(sim.config_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "200",
    }


def ncconsole(sim: Simulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        env=env(sim, tmp_path), capture_output=True, text=True, timeout=45,
    )  # fmt: skip


def test_previous_logs_of_every_pod_show_pgbouncer_refusing(sim, tmp_path) -> None:
    done = ncconsole(sim, tmp_path, "logs", "crashy", "--previous", "--tail", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert len({line.split(" ", 1)[0] for line in lines}) == 2  # two pods
    for line in lines:
        assert line.startswith("[pod/nextcloud-") and line.split(" ", 1)[0].endswith("/nextcloud]")
        assert "FATAL:  no more connections allowed (max_client_conn)" in line


def test_json_timestamps_and_interleaving_by_time(sim, tmp_path) -> None:
    done = ncconsole(sim, tmp_path, "logs", "calm", "--format", "json", "--tail", "-1")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["pod"] for r in records} and len({r["pod"] for r in records}) == 2
    times = [r["time"] for r in records]
    assert times == sorted(times)  # interleaved by time across the pods
    stamped = ncconsole(sim, tmp_path, "logs", "calm", "--timestamps", "--no-prefix", "--tail", "2")
    assert all(line[:4].isdigit() and "Z " in line for line in stamped.stdout.splitlines())


def test_previous_without_a_crash_and_unknown_tenant_are_one_line_errors(sim, tmp_path) -> None:
    done = ncconsole(sim, tmp_path, "logs", "calm", "--previous")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "previous terminated container" in done.stderr
    done = ncconsole(sim, tmp_path, "logs", "nobody")
    assert done.returncode == 2 and "no namespace nc-nobody" in done.stderr
    assert "Traceback" not in done.stderr
    done = ncconsole(sim, tmp_path, "logs", "calm", "--since", "soon")
    assert done.returncode == 2 and "option --since: 'soon' is not a duration" in done.stderr


def test_follow_streams_until_interrupted(sim, tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "logs", "calm", "-f", "--tail", "0"],
        env=env(sim, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        first = proc.stdout.readline()
        assert "kube-probe" in first or "Nextcloud-desktop" in first
        assert time.monotonic() < deadline
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "interrupted" in err
