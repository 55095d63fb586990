"""`ncconsole get|events|history|diff|restart|delete-pod|sync|terminate|refresh` in real
processes against the simulator: output, exit codes, refusals before anything changes
(read-only, RBAC naming verb/resource/namespace, no confirmation), the wave order for sync,
and the audit trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, PODS, SECRETS
from ncconsole.sim.simulator import Simulator
from tests.ops.waves_helpers import UPGRADE
from tests.sim.sim_helpers import scenario, wait_until

pytestmark = pytest.mark.timeout(120)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"stale_crashloop": True}},
    {"name": "steady", "wave": 1, "replicas": 1},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(TENANTS, pending_upgrade=UPGRADE)
    with Simulator(spec, workdir=tmp_path_factory.mktemp("sim")) as s:
        yield s


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path


def ncconsole(sim: Simulator, state: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")},
        "NCCONSOLE_CONFIG": str(sim.config_path),
        "XDG_STATE_HOME": str(state / "state"),
        "XDG_CONFIG_HOME": str(state / "config"),
        "COLUMNS": "200",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args], env=environ, capture_output=True, text=True,
        timeout=100, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def audit(state: Path) -> list[dict]:
    path = state / "state" / "ncconsole" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_get_yaml_json_describe_and_secret_keys_only(sim, state) -> None:
    done = ncconsole(sim, state, "get", "crashy", "pod")
    assert done.returncode == 0, done.stderr
    listing = yaml.safe_load(done.stdout)
    assert listing["kind"] == "List" and len(listing["items"]) == 2
    assert all(item["kind"] == "Pod" for item in listing["items"])
    assert "managedFields" not in done.stdout
    app = json.loads(ncconsole(sim, state, "get", "crashy", "application", "-o", "json").stdout)
    assert app["kind"] == "Application" and app["metadata"]["name"] == "nc-crashy"
    secret = ncconsole(sim, state, "get", "crashy", "secret")
    stored = sim.call(sim.store.get, SECRETS, "nc-crashy", "nextcloud-secrets")
    assert all(value not in secret.stdout for value in stored["data"].values())
    assert "db-password: <" in secret.stdout and "bytes, hidden>" in secret.stdout
    described = ncconsole(sim, state, "get", "crashy", "deployment", "-o", "describe").stdout
    assert "Replicas:" in described and "StrategyType:   Recreate" in described
    bad = ncconsole(sim, state, "get", "crashy", "pod", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr


def test_events_history_and_diff(sim, state) -> None:
    events = json.loads(ncconsole(sim, state, "events", "crashy", "--format", "json").stdout)
    assert any(e["reason"] == "BackOff" and e["type"] == "Warning" for e in events)
    assert [e["last_seen"] for e in events] == sorted((e["last_seen"] for e in events),
                                                      reverse=True)  # fmt: skip
    history = json.loads(ncconsole(sim, state, "history", "steady", "--format", "json").stdout)
    assert len(history) == 1 and history[0]["current"]
    assert history[0]["revisions"]["chart"] == "6.6.4" and len(history[0]["revision"]) > 8
    diff = ncconsole(sim, state, "diff", "steady")
    assert diff.returncode == 0
    assert diff.stdout.startswith("steady: 6.6.4 → 6.6.9, values: 2 lines in common.yaml")
    assert "-  version: 6.6.4\n+  version: 6.6.9" in diff.stdout
    missing = ncconsole(sim, state, "diff", "steady", "--revision", "0123456789abcdef")
    assert missing.returncode == 1
    assert "not in the local repository" in missing.stderr and "fetch" in missing.stderr


def test_changes_are_refused_before_anything_changes(sim, state, tmp_path) -> None:
    rv = sim.call(sim.store.get, DEPLOYMENTS, "nc-steady", "nextcloud")["metadata"]
    read_only = ncconsole(sim, state, "restart", "steady", "--yes", NCCONSOLE_READ_ONLY="true")
    assert read_only.returncode == 2 and "read-only mode" in read_only.stderr
    unconfirmed = ncconsole(sim, state, "restart", "steady")
    assert unconfirmed.returncode == 2 and "confirm it (--yes" in unconfirmed.stderr
    viewer = sim.write_kubeconfig(tmp_path / "viewer", user="viewer")
    denied = ncconsole(
        sim, state, "delete-pod", "steady", "x", "--yes", "--kubeconfig", str(viewer)
    )
    assert denied.returncode == 2
    assert "may not delete pods in namespace nc-steady" in denied.stderr
    after = sim.call(sim.store.get, DEPLOYMENTS, "nc-steady", "nextcloud")["metadata"]
    assert after["resourceVersion"] == rv["resourceVersion"]
    # Read-only and RBAC refuse before the action starts; the unconfirmed one is on record.
    assert [(e["action"], e["result"]) for e in audit(state)] == [("restart", "refused")]


def test_restart_ends_the_crash_loop_and_delete_pod_is_replaced(sim, state) -> None:
    done = ncconsole(sim, state, "restart", "crashy", "--yes")
    assert done.returncode == 0, done.stderr
    assert "successfully rolled out" in done.stdout
    assert "Waiting for deployment" in done.stderr  # the progress, on stderr
    pods = sim.call(sim.store.list, PODS, "nc-crashy")
    assert all(p["status"]["containerStatuses"][0].get("ready") for p in pods)
    victim = pods[0]["metadata"]["name"]
    done = ncconsole(sim, state, "delete-pod", "crashy", victim, "--yes", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "done"
    assert victim not in {
        p["metadata"]["name"] for p in sim.call(sim.store.list, PODS, "nc-crashy")
    }
    results = [(e["action"], e["result"]) for e in audit(state)]
    assert results == [("restart", "ok"), ("delete-pod", "ok")]


def test_sync_follows_the_wave_order_unless_forced(sim, state) -> None:
    refused = ncconsole(sim, state, "sync", "steady", "--yes")
    assert refused.returncode == 3 and "canary (wave 0): OutOfSync" in refused.stderr
    assert "--force" in refused.stderr
    dry = ncconsole(sim, state, "sync", "canary", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] and plan["diff"] == "6.6.4 → 6.6.9, values: 2 lines in common.yaml"
    app = sim.call(sim.store.get, APPLICATIONS, "argocd", "nc-canary")
    assert "operation" not in app  # nothing requested
    done = ncconsole(sim, state, "sync", "canary", "--yes")
    assert done.returncode == 0, done.stderr
    assert "synced to 6.6.9" in done.stdout and "smoke checks passed" in done.stdout
    history = json.loads(ncconsole(sim, state, "history", "canary", "--format", "json").stdout)
    assert history[0]["revisions"]["chart"] == "6.6.9" and history[0]["current"]


def test_terminate_and_refresh(sim, state) -> None:
    nothing = ncconsole(sim, state, "terminate", "steady", "--yes")
    assert nothing.returncode == 2 and "no operation is in progress" in nothing.stderr
    refreshed = ncconsole(sim, state, "refresh", "steady")
    assert refreshed.returncode == 0 and "hard refresh of nc-steady requested" in refreshed.stdout
    sim.set_fault("steady", "sync_fails", True)

    def request() -> None:
        def mutate(obj: dict) -> None:
            obj["operation"] = {
                "initiatedBy": {"username": "someone"},
                "sync": {"revisions": ["", ""]},
                "retry": {"limit": 50},
            }

        sim.store.update(APPLICATIONS, "argocd", "nc-steady", mutate)

    sim.call(request)
    wait_until(lambda: phase(sim) == "Running", what="the sync running")
    done = ncconsole(sim, state, "terminate", "steady", "--yes")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: phase(sim) == "Failed", timeout=20, what="the operation terminated")
    state_now = sim.call(sim.store.get, APPLICATIONS, "argocd", "nc-steady")["status"]
    assert state_now["operationState"]["message"] == "Operation terminated"
    sim.set_fault("steady", "sync_fails", False)


def phase(sim: Simulator) -> str:
    app = sim.call(sim.store.get, APPLICATIONS, "argocd", "nc-steady")
    return ((app.get("status") or {}).get("operationState") or {}).get("phase", "")
