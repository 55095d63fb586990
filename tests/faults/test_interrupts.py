"""Ctrl-C (SIGINT) or SIGTERM while `ncconsole` is changing something: it exits 130 with one
line, the audit log says the action was interrupted, and nothing is left half-done - no
Secret with some of its keys, no occ still started after the signal.

A promotion (the wave engine holding a Lease) interrupted by Ctrl-C is tested with the
promotion itself; here it gets SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.kube.connection import connect
from ncconsole.kube.lease import LEASE_NAME, PromotionLease, lease_holder
from ncconsole.ops.audit import read_audit
from ncconsole.ops.secrets import SECRET_KEYS
from ncconsole.sim.apiserver.resources import APPLICATIONS, SECRETS
from ncconsole.sim.simulator import Simulator
from tests.faults.conftest import (
    ROOT,
    assert_one_line_error,
    sim_settings,
    simulator,
)
from tests.faults.long_occ import LongOcc
from tests.ops.waves_helpers import UPGRADE
from tests.sim.sim_helpers import wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "alpha", "wave": 1, "replicas": 1},
    {"name": "beta", "wave": 1, "replicas": 1},
    {"name": "gamma", "wave": 1, "replicas": 1},
]
SIGNALS = [pytest.param(signal.SIGINT, id="ctrl-c"), pytest.param(signal.SIGTERM, id="sigterm")]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    with simulator(tmp_path / "sim", TENANTS) as running:
        yield running


def start_cli(sim: Simulator, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {"NCCONSOLE_CONFIG": str(sim.config_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.Popen(
        [sys.executable, "-m", "ncconsole", *args],
        cwd=ROOT, env={**_environ(), **env}, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")}


def audit(tmp_path: Path) -> list[dict]:
    return read_audit(tmp_path / "state" / "ncconsole" / "audit.jsonl")


def secret_keys(sim: Simulator, namespace: str) -> set[str] | None:
    obj = sim.call(sim.store.try_get, SECRETS, namespace, "nextcloud-secrets")
    return None if obj is None else set(obj.get("data") or {})


@pytest.mark.parametrize("signum", SIGNALS)
def test_signal_during_secret_creation_leaves_no_half_written_secret(
    sim: Simulator, tmp_path: Path, signum: signal.Signals
) -> None:
    sim.call(sim.store.delete, SECRETS, "nc-beta", "nextcloud-secrets")
    sim.set_api_faults(latency=0.5)  # each request is slow: the signal lands mid-way
    proc = start_cli(
        sim, tmp_path, "secret", "create", "beta", "--s3-access-key", "AK",
        "--s3-secret-key", "s3cr3t-value",
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        line = proc.stderr.readline()  # progress: "creating Secret nc-beta/nextcloud-secrets"
        assert "creating Secret nc-beta/nextcloud-secrets" in line, line
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert_one_line_error(err, "ncconsole: interrupted")
    assert "s3cr3t-value" not in out + err
    keys = secret_keys(sim, "nc-beta")
    assert keys is None or keys == set(SECRET_KEYS), f"half-written Secret: {keys}"
    entry = audit(tmp_path)[-1]
    assert (entry["action"], entry["result"], entry["exit_code"]) == (
        "secret.create",
        "interrupted",
        130,
    )
    assert entry["target"] == "nc-beta/nextcloud-secrets"
    assert "s3cr3t-value" not in (tmp_path / "state" / "ncconsole" / "audit.jsonl").read_text()


@pytest.mark.parametrize("signum", SIGNALS)
def test_signal_during_an_occ_fleet_run_stops_it_and_audits_each_tenant(
    sim: Simulator, tmp_path: Path, signum: signal.Signals
) -> None:
    scans = LongOcc.install(sim)
    proc = start_cli(
        sim, tmp_path, "occ", "--wave", "1", "--concurrency", "2", "--yes", "--",
        "files:scan", "alice",
    )  # fmt: skip
    try:
        wait_until(lambda: len(scans.started) == 2, 20, "two scans running")
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert_one_line_error(err, "ncconsole: interrupted")
    entries = [e for e in audit(tmp_path) if e["action"] == "occ"]
    running = sorted(scans.started)
    assert sorted(e["target"].split("/")[0] for e in entries) == running  # one line each
    assert {(e["result"], e["message"]) for e in entries} == {
        ("interrupted", "stopped by the user")
    }
    assert len(running) == 2  # the third tenant was never started after the signal


def test_sigterm_during_a_promotion_releases_the_lease(tmp_path: Path) -> None:
    """Ctrl-C is tested with the promotion itself (tests/cli/test_wave_cli.py); SIGTERM (a closed
    terminal, a CI job cancelled) must end it the same way."""
    tenants = [{"name": "canary", "wave": 0, "replicas": 1}, *TENANTS]
    extra = {"pending_upgrade": UPGRADE, "timings": {"sync": 5}}
    with simulator(tmp_path / "sim", tenants, **extra) as sim:
        lease = PromotionLease(connect(sim_settings(sim)), "argocd", name=LEASE_NAME)
        proc = start_cli(sim, tmp_path, "wave", "promote", "0", "--yes")
        try:
            wait_until(lambda: lease_holder(lease.read()), 20, "the promotion's Lease")
            wait_until(lambda: canary_operation(sim), 20, "the canary's sync")
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert lease_holder(lease.read()) == ""  # another console may promote at once
        last = [e for e in audit(tmp_path) if e["action"] == "wave promote"][-1]
        assert (last["result"], last["exit_code"]) == ("interrupted", 130)


def canary_operation(sim: Simulator) -> bool:
    app = sim.call(sim.store.try_get, APPLICATIONS, "argocd", "nc-canary") or {}
    phase = ((app.get("status") or {}).get("operationState") or {}).get("phase")
    return bool(app.get("operation")) or phase == "Running"
