"""`ncconsole wave list|promote` and `ncconsole rollback` against the simulator: output,
exit codes, confirmations, --force, and Ctrl-C in a real process."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.kube.connection import connect
from ncconsole.kube.lease import LEASE_NAME, PromotionLease, lease_holder
from ncconsole.ops.audit import read_audit
from ncconsole.sim.simulator import Simulator
from tests.ops.waves_helpers import UPGRADE, sim_settings, target
from tests.sim.sim_helpers import scenario

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
    {"name": "beta", "wave": 1, "replicas": 1},
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("NCCONSOLE_READ_ONLY", raising=False)


def _start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra) -> Iterator[Simulator]:
    spec = scenario(TENANTS, pending_upgrade=UPGRADE, **extra)
    with Simulator(spec, workdir=tmp_path / "sim") as sim:
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
        yield sim


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    yield from _start(tmp_path, monkeypatch)


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = run_guarded(cli, list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_wave_list_then_promote_canary_first(sim: Simulator, capsys) -> None:
    code, out, _ = run(capsys, "wave", "list", "--format", "json")
    assert code == 0
    listing = json.loads(out)
    assert listing["mode"] == "manual" and listing["target_revision"] == target(sim)
    chart, commit = listing["target_revisions"]  # multi-source: the chart and the values commit
    assert (chart, listing["target"]) == ("6.6.9", f"6.6.9@{commit[:7]}")
    waves = {w["wave"]: w for w in listing["waves"]}
    assert waves[0]["promotable"] and waves[0]["counts"]["at_target"] == 0
    assert not waves[1]["promotable"]
    assert any(b.startswith("canary: wave 0: OutOfSync") for b in waves[1]["blockers"])

    code, out, _ = run(capsys, "wave", "list")
    assert "wave 1 may not be promoted:\n  - canary: wave 0: OutOfSync" in out
    # The revisions as chart version @ short values commit: the target, and what runs.
    assert f"target revision 6.6.9@{commit[:7]} (chart 6.6.9, values commit {commit[:7]})" in out
    assert "DEPLOYED" in out and "6.6.4@" in out
    code, _, err = run(capsys, "wave", "promote", "1")  # refused before any question
    assert code == 3
    assert "wave 1 may not be promoted" in err and "  - canary: wave 0: OutOfSync" in err

    code, out, err = run(capsys, "wave", "promote", "0", "--yes", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["outcome"] == "promoted" and report["tenants"][0]["phase"] == "done"
    code, out, err = run(capsys, "wave", "promote", "1", "--yes")
    assert code == 0, err
    assert "alpha: smoke" in err and "beta: done" in err  # plain progress lines (no TTY)
    assert "wave 1 (manual)" in out and "2 tenants promoted" in out

    code, out, _ = run(capsys, "wave", "list")
    assert code == 0 and "done (all at the target)" in out
    assert "1/1" in out and "2/2" in out


def test_promote_needs_yes_without_a_terminal_and_refuses_read_only(sim: Simulator, capsys):
    code, _, err = run(capsys, "wave", "promote", "0")
    assert code == 2 and "not confirmed; pass --yes" in err
    code, _, err = run(capsys, "wave", "promote", "9", "--yes")
    assert code == 2 and "wave 9: no tenants" in err and "(waves: 0, 1)" in err
    code, _, err = run(capsys, "wave", "promote", "0", "--yes", "--read-only")
    assert code == 2 and "read-only mode: refusing to promote wave 0" in err
    code, out, _ = run(capsys, "wave", "promote", "1", "--dry-run", "--format", "json")
    assert code == 3 and "canary: wave 0: OutOfSync" in json.loads(out)["message"]
    code, out, _ = run(capsys, "wave", "promote", "0", "--dry-run")
    assert code == 0 and "all gates pass" in out


def test_force_skips_gates_only_after_typing_the_wave(
    sim: Simulator, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    code, _, err = run(capsys, "wave", "promote", "1", "--yes", "--force")
    assert code == 2 and "--force not confirmed" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\n"))
    code, out, err = run(capsys, "wave", "promote", "1", "--yes", "--force")
    assert code == 0, err
    assert "FORCED past: canary: wave 0: OutOfSync" in out
    start = next(e for e in read_audit() if e["result"] == "started")
    assert start["args"]["forced"] is True and "FORCED past" in start["message"]


def test_lease_held_elsewhere_refuses_with_exit_3(sim: Simulator, capsys) -> None:
    conn = connect(sim_settings(sim))
    other = PromotionLease(conn, "argocd", holder="ann@laptop", purpose="wave 2")
    other.acquire()
    code, _, err = run(capsys, "wave", "promote", "0", "--yes")
    assert code == 3 and "held by ann@laptop (wave 2)" in err
    other.release()


def test_rollback_goes_back_one_history_entry(sim: Simulator, capsys) -> None:
    assert run(capsys, "wave", "promote", "0", "--yes")[0] == 0
    code, _, err = run(capsys, "rollback", "canary")
    assert code == 2 and "confirm it" in err
    code, out, err = run(capsys, "rollback", "canary", "--yes", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["phase"] == "done" and result["to"]["id"] == result["from"]["id"] - 1
    code, _, err = run(capsys, "rollback", "canary", "--to", "99", "--yes")
    assert code == 2 and "no history id 99" in err


def test_ctrl_c_releases_the_lease_and_audits_the_interruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sim in _start(tmp_path, monkeypatch, timings={"sync": 5}):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ncconsole", "wave", "promote", "0", "--yes"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        conn = connect(sim_settings(sim))
        lease = PromotionLease(conn, "argocd", name=LEASE_NAME)
        deadline = time.monotonic() + 20
        while not lease_holder(lease.read()) or not _operation_requested(conn):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 130, err
        assert "interrupted" in out and lease_holder(lease.read()) == ""
        last = [e for e in read_audit() if e["action"] == "wave promote"][-1]
        assert last["result"] == "interrupted" and last["exit_code"] == 130


def _operation_requested(conn) -> bool:
    app = conn.get_json("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/nc-canary")
    phase = ((app.get("status") or {}).get("operationState") or {}).get("phase")
    return bool(app.get("operation")) or phase == "Running"


def test_a_viewer_may_list_and_dry_run_but_is_told_about_the_lease(
    sim: Simulator, capsys, tmp_path: Path
) -> None:
    """The built-in `view` role reads Applications but no Leases: wave list works, and a dry
    run says the Lease cannot be read instead of failing on a raw 403."""
    viewer = sim.write_kubeconfig(tmp_path / "viewer.kubeconfig", user="viewer")
    code, out, _ = run(capsys, "wave", "list", "--kubeconfig", str(viewer))
    assert code == 0 and "target revision 6.6.9@" in out
    code, out, err = run(capsys, "wave", "promote", "0", "--dry-run", "--kubeconfig", str(viewer))
    assert code == 3, err
    assert "may not read the promotion Lease in argocd (RBAC)" in out
