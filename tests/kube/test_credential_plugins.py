"""Exec credential plugins (kube/credentials.py): one that hangs is stopped after the
timeout and named, one that fails is one line with its stderr and no stray log line, and the
console keeps answering keys while a plugin runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ncconsole.cli.console import LiveFleetOpener
from ncconsole.kube.connection import CredentialPluginError, connect, exec_plugin
from ncconsole.settings import Settings
from ncconsole.tui.app import make_app

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:1"}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {command}
      interactiveMode: Never
contexts:
- name: c
  context: {{cluster: c, user: u}}
current-context: c
"""

PLUGINS = {
    "hangs": "#!/bin/sh\nsleep 300\n",
    "fails": (
        "#!/bin/sh\necho 'error: the refresh token expired; run: login-tool login' >&2\nexit 1\n"
    ),
    "babbles": "#!/bin/sh\necho 'this is not JSON'\n",
    "works": (
        '#!/bin/sh\necho \'{"apiVersion": "client.authentication.k8s.io/v1", '
        '"kind": "ExecCredential", "status": {"token": "t0ken"}}\'\n'
    ),
}


def kubeconfig_with(tmp_path: Path, plugin: str) -> Path:
    script = tmp_path / f"login-{plugin}"
    script.write_text(PLUGINS[plugin])
    script.chmod(0o755)
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.format(command=script))
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for var in ("NCCONSOLE_CONFIG", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)


def test_a_hanging_plugin_is_stopped_and_named(tmp_path: Path) -> None:
    path = kubeconfig_with(tmp_path, "hangs")
    with pytest.raises(CredentialPluginError) as caught:
        connect(Settings(kubeconfig=path, credential_plugin_timeout=1))
    assert str(caught.value) == (
        f"{path}: context 'c': credential plugin 'login-hangs' did not answer within 1 s; "
        "run it yourself (it may want a login) and try again"
    )


@pytest.mark.parametrize(
    ("plugin", "says"),
    [
        ("fails", "credential plugin 'login-fails' failed (exit 1): error: the refresh token "
                  "expired; run: login-tool login"),
        ("babbles", "credential plugin 'login-babbles' answered no ExecCredential"),
    ],
)  # fmt: skip
def test_a_failing_plugin_is_one_line_without_a_stray_log_line(tmp_path, plugin, says) -> None:
    path = kubeconfig_with(tmp_path, plugin)
    repo = tmp_path / "repo"
    (repo / "values" / "tenants").mkdir(parents=True)
    args = ["status", "--kubeconfig", str(path), "--repo", str(repo)]
    done = subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        cwd=ROOT, env={**os.environ, "COLUMNS": "300"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ncconsole: error: {path}: context 'c': {says}")
    assert "ERROR:root" not in done.stderr and "Traceback" not in done.stderr


def test_a_working_plugin_gives_its_token(tmp_path: Path) -> None:
    conn = connect(Settings(kubeconfig=kubeconfig_with(tmp_path, "works")))
    assert conn.api.configuration.api_key["BearerToken"] == "Bearer t0ken"


async def test_the_console_answers_keys_while_a_plugin_hangs(tmp_path: Path) -> None:
    settings = Settings(kubeconfig=kubeconfig_with(tmp_path, "hangs"), credential_plugin_timeout=5)
    assert exec_plugin(settings).endswith("login-hangs")
    opener = LiveFleetOpener()
    source = opener.open(settings)  # the plugin runs when the fleet starts, in a worker
    assert source.connection is None
    app = make_app(source, settings, opener=opener)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        assert app.is_running
        await pilot.press("question_mark")  # a key is handled while the plugin hangs
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape", "q")
        deadline = time.monotonic() + 4
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert not app.is_running
