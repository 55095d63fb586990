"""No terminal, no console: `ncconsole` into a pipe says so and exits 2 instead of writing
escape codes forever. Ctrl-C at any moment of start-up ends with exit 130 and no traceback
(ncconsole/launcher.py), and stops a credential plugin that was running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
NEEDS_TERMINAL = (
    "ncconsole: error: the console needs a terminal; in scripts and pipes use `ncconsole status`"
)


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")}
    env.pop("KUBECONFIG", None)
    return env | {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path)}


@pytest.mark.parametrize("command", [[], ["demo"]], ids=["console", "demo"])
def test_the_console_into_a_pipe_refuses_in_one_line(tmp_path: Path, command) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ncconsole", *command],
        cwd=ROOT, env=env_for(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""  # no escape codes
    assert done.stderr.startswith(NEEDS_TERMINAL) and done.stderr.count("\n") == 1
    assert not (tmp_path / "state").exists()  # the demo started no simulator


HANGING_PLUGIN = """\
#!/bin/sh
echo $$ > {pidfile}
exec sleep 300
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:1"}}
users:
- name: u
  user:
    exec: {{apiVersion: client.authentication.k8s.io/v1, command: {command}}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
"""


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.5, 4.0])
def test_ctrl_c_at_any_moment_of_start_up_is_quiet(tmp_path: Path, delay: float) -> None:
    """The command hangs in a credential plugin once started, so the interrupt lands in the
    imports, the parsing or the plugin depending on `delay` and the machine's load."""
    pidfile = tmp_path / "plugin.pid"
    plugin = tmp_path / "login"
    plugin.write_text(HANGING_PLUGIN.format(pidfile=pidfile))
    plugin.chmod(0o755)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(command=plugin))
    repo = tmp_path / "repo"
    (repo / "values" / "tenants").mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "status", "--kubeconfig", str(kubeconfig),
         "--repo", str(repo)],
        cwd=ROOT, env=env_for(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    # At most "ncconsole: interrupted" (click starts it on a fresh line after the ^C).
    assert len([line for line in err.splitlines() if line.strip()]) <= 1 and out == ""
    if pidfile.exists():  # the plugin had started: it was stopped with the command
        pid = int(pidfile.read_text())
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
