"""occ in a tenant's pod going wrong: the pod is deleted while the command runs, the container
is not there, occ fails, or it prints 10 MB. Each ends with occ's exit code (or one line
saying why there is none), an audit line, and output streamed as it comes - never held in
memory whole.

The simulated occ answers at once; the long-running `occ files:scan` is played by LongOcc
(long_occ.py) around the simulator's exec handler, everything else is the simulator's occ.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, RichLog

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import ApiStatusError, connect
from ncconsole.kube.exec import exec_in_pod, pick_ready_pod
from ncconsole.ops.audit import read_audit
from ncconsole.ops.errors import PodNotReady
from ncconsole.ops.occ import run_occ
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.occ import OUTPUT_LINES, OccScreen
from tests.faults.conftest import (
    FAST,
    ROOT,
    assert_keys_answered_while,
    assert_one_line_error,
    run_cli,
    sim_settings,
    simulator,
    wait_ui,
)
from tests.faults.long_occ import BIG_OUTPUT, LongOcc
from tests.sim.sim_helpers import wait_until
from tests.tui.conftest import plain

pytestmark = pytest.mark.timeout(60)
TENANTS = [{"name": "alpha", "wave": 0, "replicas": 1}, {"name": "beta", "wave": 1, "replicas": 1}]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with simulator(tmp_path_factory.mktemp("exec"), TENANTS) as running:
        LongOcc.install(running)
        yield running


def ready_pod(sim: Simulator, tenant: str) -> str:
    conn = connect(sim_settings(sim))
    return wait_until(lambda: pick_ready_pod(conn, f"nc-{tenant}", "nextcloud")[0], 10, "a pod")


def cli_env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    return {"NCCONSOLE_CONFIG": str(sim.config_path), "XDG_STATE_HOME": str(tmp_path / "state")}


def test_pod_deleted_mid_command_ends_with_137_and_is_audited(
    sim: Simulator, tmp_path: Path
) -> None:
    pod = ready_pod(sim, "alpha")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "occ", "alpha", "--yes", "--", "files:scan", "alice"],
        cwd=ROOT, env={**cli_env(sim, tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # output streams while the command runs
        assert first.startswith("Scanning file"), first
        sim.kill_pod("alpha", pod)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 137
    said = f"killed by SIGKILL (exit 137): pod {pod} was deleted or restarted, or ran out of memory"
    assert err.startswith("Terminated\n")  # occ's own stderr, streamed
    assert_one_line_error(
        err.removeprefix("Terminated\n"), f"ncconsole: occ on tenant alpha: {said}"
    )
    entry = read_audit(tmp_path / "state" / "ncconsole" / "audit.jsonl")[-1]
    assert (entry["result"], entry["exit_code"], entry["message"]) == ("failed", 137, said)
    assert entry["target"] == f"nc-alpha/{pod}"


def test_api_gone_mid_command_says_there_is_no_exit_code(sim: Simulator, tmp_path: Path) -> None:
    """The API server stops answering while occ runs: no exit code ever comes back."""
    pod = ready_pod(sim, "beta")
    server = sim.server
    assert server is not None
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "occ", "beta", "--yes", "--", "files:scan", "bob"],
        cwd=ROOT, env={**os.environ, **cli_env(sim, tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("Scanning file")
        server.stop_listening()
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        server.start_listening()
    assert proc.returncode == 1
    said = f"the connection to pod {pod} ended without an exit code"
    # The API is gone, so the action's Event cannot reach it either: one warning says so, after
    # the action's own one-line error (the audit rule of ops/audit.py).
    event_warning = "ncconsole: warning: audit Event not recorded in nc-beta"
    first, *rest = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith(event_warning) for line in rest), err
    assert_one_line_error(first, f"ncconsole: occ on tenant beta: {said}")
    entry = read_audit(tmp_path / "state" / "ncconsole" / "audit.jsonl")[-1]
    assert (entry["result"], entry["exit_code"], entry["message"]) == ("failed", None, said)


def test_container_missing_is_named(sim: Simulator) -> None:
    settings = sim_settings(sim, occ={"container": "php-fpm"})
    conn = connect(settings)
    with pytest.raises(PodNotReady) as refused:
        run_occ(conn, settings, "beta", ["status"], auditor=None)
    pod = ready_pod(sim, "beta")
    assert str(refused.value) == (
        f"tenant beta: pod {pod} has no container 'php-fpm' (it has: nextcloud);"
        " occ needs a Ready pod"
    )
    # Straight at the API: the apiserver's 400 comes back as one line too.
    with pytest.raises(ApiStatusError) as bad:
        exec_in_pod(conn, "nc-beta", pod, "php-fpm", ["php", "occ", "status"], timeout=10)
    assert bad.value.status == 400
    assert f"container php-fpm is not valid for pod {pod}" in str(bad.value)


def test_non_zero_exit_is_passed_through_and_audited(sim: Simulator, tmp_path: Path) -> None:
    done = run_cli(
        "occ", "beta", "--", "config:system:get", "no_such_key", env=cli_env(sim, tmp_path)
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    entry = read_audit(tmp_path / "state" / "ncconsole" / "audit.jsonl")[-1]
    assert (entry["action"], entry["result"], entry["exit_code"]) == ("occ", "failed", 1)


def test_ten_megabytes_of_output_stream_with_bounded_memory(sim: Simulator, tmp_path: Path) -> None:
    """The CLI prints occ's output as it arrives and keeps none of it. Its stdout goes to a
    file (a pipe the test reads could stall it); RSS is sampled from /proc while the file
    grows, and its peak stays well under the output above what it was after the first MiB
    (buffers and TLS warmed up). Holding the output grew it by 19-27 MiB here."""
    output = tmp_path / "scan.out"
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ncconsole", "occ", "beta", "--yes", "--",
             "files:scan", "--all"],
            cwd=ROOT, env={**os.environ, **cli_env(sim, tmp_path)},
            stdout=sink, stderr=subprocess.PIPE,
        )  # fmt: skip
        samples = []
        try:
            while proc.poll() is None:
                samples.append((output.stat().st_size, _rss(proc.pid)))
                time.sleep(0.01)  # sampling interval, not a wait for a condition
            err = proc.stderr.read().decode() if proc.stderr else ""
        finally:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert output.stat().st_size >= BIG_OUTPUT
    mib = 2**20
    first = next(rss for got, rss in samples if got >= mib and rss)
    peak = max(rss for _, rss in samples)
    print(f"RSS after 1 MiB {first / mib:.1f} MiB, peak {peak / mib:.1f} MiB")
    assert peak - first < BIG_OUTPUT / 2, f"RSS grew by {(peak - first) / mib:.1f} MiB"


def _rss(pid: int) -> int:
    """Resident memory of process `pid` in bytes (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(line.split()[1]) * 1024 if line else 0  # a zombie has no memory left


# -- the occ screen --------------------------------------------------------------------


async def open_occ_screen(pilot: Any, app: Any, tenant: str) -> OccScreen:
    await wait_ui(pilot, lambda: app.snapshot is not None and app.snapshot.complete, 15)
    app.action_occ(tenant=tenant)
    await wait_ui(pilot, lambda: isinstance(app.screen, OccScreen))
    return app.screen


async def run_confirmed(pilot: Any, app: Any, command: str) -> None:
    await pilot.press(*command, "enter")
    await wait_ui(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.press("y")


def badge(screen: OccScreen) -> str:
    return plain(screen.badge.render()).strip()


def log_text(screen: OccScreen) -> str:
    return "\n".join(line.text for line in screen.query_one("#occ-output", RichLog).lines)


async def test_occ_screen_keeps_answering_and_bounds_its_scrollback(sim: Simulator) -> None:
    """Keys are handled while occ's output streams in (the command runs until released),
    and a long output keeps only the newest OUTPUT_LINES lines. Key latency itself is
    measured by benchmarks/key_latency.py, not asserted here."""
    long_occ = sim.server.api.exec_handler  # type: ignore[union-attr]
    assert isinstance(long_occ, LongOcc)
    long_occ.released.clear()
    settings = sim_settings(sim)
    app = make_app(FleetState(settings, timing=FAST, probes=False), settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_occ_screen(pilot, app, "beta")
        try:
            await run_confirmed(pilot, app, "files:scan --until-released")
            output = screen.query_one("#occ-output", RichLog)
            await wait_ui(pilot, lambda: len(output.lines) > 100, 20)
            field = screen.query_one("#occ-input", Input)
            field.value = ""
            streamed = len(output.lines)

            def streaming() -> bool:
                return badge(screen) == "running…" and len(output.lines) >= streamed

            await assert_keys_answered_while(
                pilot, field, "value", streaming, keys=("x", "backspace"), presses=6
            )
            assert len(output.lines) > streamed  # the output went on arriving meanwhile
        finally:
            long_occ.released.set()
        await wait_ui(pilot, lambda: badge(screen) == "exit 0", 30)
        assert len(output.lines) <= OUTPUT_LINES
        newest = f"IMG_{long_occ.last_line:06d}.jpg"
        assert newest in log_text(screen)  # the newest lines are the ones kept


async def test_occ_screen_says_the_pod_was_deleted(sim: Simulator) -> None:
    settings = sim_settings(sim)
    app = make_app(FleetState(settings, timing=FAST, probes=False), settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_occ_screen(pilot, app, "alpha")
        pod = ready_pod(sim, "alpha")
        await run_confirmed(pilot, app, "files:scan carol")
        await wait_ui(pilot, lambda: "Scanning file" in log_text(screen), 15)
        sim.kill_pod("alpha", pod)
        await wait_ui(pilot, lambda: badge(screen) == "exit 137", 15)
        assert f"⚠ killed by SIGKILL (exit 137): pod {pod} was deleted" in log_text(screen)
