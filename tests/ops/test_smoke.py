"""Smoke checks on a whole simulated platform: a healthy tenant passes, each fault fails the
check that should catch it, with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.ops.smoke import SmokeReport, run_smoke_checks
from ncconsole.settings import Settings, load_settings
from ncconsole.sim.apiserver.resources import APPLICATIONS
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator

pytestmark = pytest.mark.timeout(90)
FAULTS = {
    "healthy": {},
    "degraded": {"degraded": True},
    "maint": {"maintenance": True},
    "dbupgrade": {"needs_db_upgrade": True},
    "nobucket": {"bucket_missing": True},
    "web500": {"statusphp_500": True},
    "syncfail": {"sync_fails": True},
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    scenario = Scenario.model_validate(
        {
            "tenants": [
                {"name": name, "wave": 0 if name == "healthy" else 1, "replicas": 1, "faults": f}
                for name, f in FAULTS.items()
            ]
        }
    )
    with Simulator(scenario, workdir=tmp_path_factory.mktemp("sim")) as running:
        yield running


@pytest.fixture(scope="module")
def reports(sim: Simulator) -> dict[str, SmokeReport]:
    settings = _settings(sim)
    # A sync of the sync_fails tenant ends Failed, as it would during a rollout.
    sim.call(
        sim.store.update, APPLICATIONS, "argocd", "nc-syncfail",
        lambda app: {**app, "operation": {"initiatedBy": {"username": "test"}, "sync": {}}},
    )  # fmt: skip
    fleet = FleetState(settings, probes=False)
    fleet.start()
    try:
        snapshot = fleet.wait_for(
            lambda s: (
                s.complete
                and (app := s.tenant("syncfail").app) is not None
                and app.operation_phase == "Failed"
            ),
            20,
        )
    finally:
        fleet.stop()
    conn = connect(settings)
    done = run_smoke_checks(conn, settings, snapshot.tenants, concurrency=4)
    return {r.tenant: r for r in done}


def _settings(sim: Simulator) -> Settings:
    import os

    os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
    try:
        return load_settings()
    finally:
        del os.environ["NCCONSOLE_CONFIG"]


def check(report: SmokeReport, name: str) -> tuple[str, str]:
    found = next(c for c in report.checks if c.name == name)
    return found.status, found.message


def test_healthy_tenant_passes_every_check(reports: dict[str, SmokeReport]) -> None:
    report = reports["healthy"]
    assert not report.failed, report.as_dict()
    assert {c.name for c in report.checks} >= {
        "argocd", "deployment", "pods", "status.php", "version", "occ status", "secret",
        "bucket", "tls",
    }  # fmt: skip
    assert check(report, "tls")[0] == "pass" and "days" in check(report, "tls")[1]
    assert all(c.duration >= 0 for c in report.checks)


@pytest.mark.parametrize(
    ("tenant", "failing", "words"),
    [
        ("degraded", "pods", "CrashLoopBackOff"),
        ("maint", "status.php", "maintenance mode"),
        ("maint", "occ status", "maintenance mode"),
        ("dbupgrade", "status.php", "needs DB upgrade"),
        ("nobucket", "bucket", "does not exist"),
        ("web500", "status.php", "HTTP 500"),
        ("syncfail", "argocd", "last sync Failed"),
    ],
)
def test_each_fault_fails_its_check_with_a_reason(
    reports: dict[str, SmokeReport], tenant: str, failing: str, words: str
) -> None:
    report = reports[tenant]
    assert report.failed
    status, message = check(report, failing)
    assert status == "fail" and words in message, report.as_dict()
    assert words in report.summary


def test_missing_secret_key_fails_the_secret_check(sim: Simulator, tmp_path: Path) -> None:
    from ncconsole.sim.apiserver.resources import SECRETS

    def drop(secret: dict) -> dict:
        data = dict(secret["data"])
        data.pop("redis-password")
        return {**secret, "data": data}

    sim.call(sim.store.update, SECRETS, "nc-healthy", "nextcloud-secrets", drop)
    settings = _settings(sim)
    fleet = FleetState(settings, probes=False)
    fleet.start()
    try:
        snapshot = fleet.wait_for(lambda s: s.complete, 10)
    finally:
        fleet.stop()
    (report,) = run_smoke_checks(connect(settings), settings, [snapshot.tenant("healthy")])
    assert check(report, "secret") == ("fail", "Secret nextcloud-secrets lacks redis-password")


def test_cli_json_and_junit_exit_1_when_a_check_fails(sim: Simulator, monkeypatch, capsys) -> None:
    import json
    from xml.etree import ElementTree as ET

    from ncconsole.cli import cli
    from ncconsole.cli.options import run_guarded

    monkeypatch.setenv("NCCONSOLE_CONFIG", str(sim.config_path))
    monkeypatch.setenv("COLUMNS", "160")
    assert run_guarded(cli, ["smoke", "healthy", "maint", "--format", "json"]) == 1
    data = {r["tenant"]: r for r in json.loads(capsys.readouterr().out)}
    assert data["maint"]["failed"] and data["maint"]["status"] == "fail"
    assert run_guarded(cli, ["smoke", "maint", "--format", "junit"]) == 1
    suites = ET.fromstring(capsys.readouterr().out)
    failures = [
        case.get("name") for case in suites.iter("testcase") if case.find("failure") is not None
    ]
    assert failures == ["status.php", "occ status"]
    assert run_guarded(cli, ["smoke", "maint"]) == 1
    out = capsys.readouterr().out
    assert "✗ maint  FAIL  status.php: maintenance mode" in out
    assert run_guarded(cli, ["smoke", "nosuch"]) == 2
    assert "nosuch: no such tenant" in capsys.readouterr().err
