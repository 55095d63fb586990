"""`ncconsole sim` as a user runs it: a subprocess that writes its files, kubeconfig last."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ncconsole.cli import main
from ncconsole.settings import load_settings
from tests.sim.sim_helpers import KUBECTL, wait_until

pytestmark = pytest.mark.timeout(90)


def test_sim_writes_repo_and_config_then_kubeconfig_and_stops_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "sim"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "sim", "--tenants", "3", "--waves", "2",
         "--workdir", str(workdir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        kubeconfig = workdir / "kubeconfig"
        # The first listing of the workdir that holds the kubeconfig (one readdir: what was
        # there at one moment). The kubeconfig is written last, so the rest is there already.
        first_with_kubeconfig: set[str] = set()

        def ready() -> bool:
            names = {p.name for p in workdir.iterdir()} if workdir.exists() else set()
            if "kubeconfig" in names:
                first_with_kubeconfig.update(names)
                return True
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            return False

        wait_until(ready, timeout=60, what="the kubeconfig")
        assert {"config.yaml", "platform", "tls"} <= first_with_kubeconfig
        assert (workdir / "config.yaml").is_file() and (workdir / "platform" / ".git").is_dir()
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("ncconsole sim: 3 tenants at https://127.0.0.1:")
        assert f"NCCONSOLE_CONFIG={workdir / 'config.yaml'}" in line

        monkeypatch.setenv("NCCONSOLE_CONFIG", str(workdir / "config.yaml"))
        settings = load_settings()
        assert settings.kubeconfig == kubeconfig and settings.repo == workdir / "platform"
        assert settings.web.ca_file == workdir / "tls" / "ca.crt"
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
        pods = subprocess.run(
            [str(KUBECTL), "get", "pods", "-n", "nc-platform", "--no-headers"],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert pods.returncode == 0 and len(pods.stdout.splitlines()) == 3

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not kubeconfig.exists()  # a stopped simulator is not "ready"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sim_refuses_a_used_workdir_and_mixed_options(tmp_path: Path, capsys) -> None:
    (tmp_path / "platform").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--workdir", str(tmp_path), "--tenants", "2"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ncconsole: error: {tmp_path / 'platform'} already exists; use an empty "
                   "--workdir or remove it")  # fmt: skip
    with pytest.raises(SystemExit):
        main(["sim", "--workdir", str(tmp_path / "x"), "--scenario", "demo", "--tenants", "2"])
    assert "cannot be combined with --scenario" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sim", "--workdir", str(tmp_path / "y"), "--scenario", "nope.yaml"])
    assert "scenario file 'nope.yaml' not found" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit):
            main(["sim", "--workdir", str(tmp_path / "p"), "--tenants", "1", "--port", str(port)])
    assert capsys.readouterr().err.strip() == (
        f"ncconsole: error: port {port} on 127.0.0.1 is in use; choose another --port "
        "(0: any free one)"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants:\n  - {name: Not_A_Name, wave: 0}\n")
    with pytest.raises(SystemExit):
        main(["sim", "--workdir", str(tmp_path / "z"), "--scenario", str(bad)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"ncconsole: error: {bad}: field 'tenants.0.name'"
    )


def _spawn_demo(workdir: Path) -> tuple[int, int]:
    """`ncconsole demo` on a pseudo-terminal, as a user starts it; (pid, pty fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes ncconsole demo
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "ncconsole", "demo", "--workdir",
                                  str(workdir)])  # fmt: skip
    return pid, fd


def _read_screen(fd: int, until: str, timeout: float) -> str:
    screen, deadline = b"", time.monotonic() + timeout
    while until.encode() not in screen:
        assert time.monotonic() < deadline, f"the console never showed {until!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            screen += os.read(fd, 65536)
    return screen.decode(errors="replace")


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_demo_opens_the_console_on_a_simulator_it_stops_again(tmp_path: Path, how: str) -> None:
    workdir = tmp_path / "demo"
    pid, fd = _spawn_demo(workdir)
    try:
        wait_until(lambda: (workdir / "kubeconfig").exists(), timeout=60, what="the simulator")
        _read_screen(fd, "\x1b[?1049h", timeout=30)  # the console takes over the screen
        os.kill(pid, signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        os.waitpid(pid, 0)
        # On SIGKILL the simulator notices its parent is gone by itself.
        wait_until(lambda: not (workdir / "kubeconfig").exists(), timeout=20,
                   what="the demo's simulator to stop")  # fmt: skip
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
