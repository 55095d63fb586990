"""One smoke record for every smoke run: `ncconsole smoke` writes it, the promotion gates read
it (a recent pass is not run again), and a corrupt record is a warning, not a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.locations import smoke_record_path
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
]


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("NCCONSOLE_READ_ONLY", raising=False)
    with Simulator(scenario(TENANTS), workdir=tmp_path / "sim") as sim:
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
        yield sim


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = run_guarded(cli, list(args))
    out, err = capsys.readouterr()
    return code, out, err


def canary_smoke(listing: dict) -> dict | None:
    (canary,) = [t for w in listing["waves"] for t in w["tenants"] if t["tenant"] == "canary"]
    return canary["smoke"]


def test_smoke_cli_result_counts_for_the_promotion_gate(sim: Simulator, capsys) -> None:
    code, out, _ = run(capsys, "wave", "list", "--format", "json")
    assert code == 0 and canary_smoke(json.loads(out)) is None

    code, out, err = run(capsys, "smoke", "canary")
    assert code == 0, out + err
    recorded = SmokeRecord().load()["canary"]
    assert recorded.passed and recorded.result == "pass" and recorded.revision

    code, out, _ = run(capsys, "wave", "list", "--format", "json")
    smoke = canary_smoke(json.loads(out))
    assert smoke is not None and smoke["fresh"] and smoke["passed"]

    # The gate for wave 1 finds the canary's pass recent: it does not run the checks again.
    code, out, err = run(capsys, "wave", "promote", "1", "--dry-run", "--format", "json")
    assert code == 0, out + err
    assert SmokeRecord().load()["canary"].checked_at == recorded.checked_at


def test_corrupt_record_is_one_warning_then_replaced(sim: Simulator, capsys) -> None:
    path = smoke_record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"canary": {"passed": tru', encoding="utf-8")

    code, out, err = run(capsys, "wave", "list", "--format", "json")
    assert code == 0 and canary_smoke(json.loads(out)) is None
    assert err.count("\n") == 1 and f"smoke record {path} is unreadable" in err

    code, out, err = run(capsys, "smoke", "canary", "--format", "json")
    assert code == 0 and json.loads(out)[0]["tenant"] == "canary"
    assert err.count("\n") == 1 and "unreadable" in err and "Traceback" not in err
    assert SmokeRecord().load()["canary"].passed  # the next run replaced the broken file
    code, _, err = run(capsys, "wave", "list")
    assert code == 0 and "unreadable" not in err
