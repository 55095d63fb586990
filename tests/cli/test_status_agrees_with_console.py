"""`ncconsole status` (JSON and table) and the console's fleet table say the same thing about the
same cluster, column by column: a tenant mid-rollout (where PODS used to differ: the CLI
counted the terminating old pod), a crash-looping pod, maintenance mode and smoke results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.ops.platform import platform_reader
from ncconsole.render.fleet_rows import tenant_key
from ncconsole.settings import load_settings
from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.tui.app import make_app
from ncconsole.tui.widgets.fleet_table import FleetTable
from tests.cluster_objects import add_tenant, pod
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.probes.servers import ServerThread
from tests.sim.sim_helpers import FAST
from tests.tui.conftest import wait_for

pytestmark = pytest.mark.timeout(60)
TENANTS = {"rolling": 0, "smoked": 0, "crashy": 1, "sleepy": 1}


def nextcloud(method, path, headers):
    maintenance = headers.get("host", "").startswith("sleepy.")
    body = {
        "installed": True,
        "maintenance": maintenance,
        "needsDbUpgrade": False,
        "version": "30.0.6.2",
        "versionstring": "30.0.6",
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def rgw(method, path, headers):
    return 200, {"X-RGW-Object-Count": "7", "X-RGW-Bytes-Used": "2048"}, b""


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with (
        SimServer(tls_dir=tmp_path / "tls") as sim,
        ServerThread(nextcloud) as web,
        ServerThread(rgw) as s3,
    ):
        sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
        for name, wave in TENANTS.items():
            add_tenant(sim, name, wave)
        # A rollout: the new pod is Ready, the old one is still Ready but terminating.
        old = pod("rolling", "nextcloud-rolling-old")
        old["metadata"]["finalizers"] = ["test/keep"]
        sim.call(sim.store.create, PODS, old)
        sim.call(sim.store.delete, PODS, "nc-rolling", "nextcloud-rolling-old")
        crashed = pod("crashy", "nextcloud-crashy-0", ready=False, waiting="CrashLoopBackOff")
        sim.call(sim.store.update, PODS, "nc-crashy", "nextcloud-crashy-0", lambda _: crashed)
        repo = write_repo(
            tmp_path / "repo",
            {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in TENANTS.items()},
        )
        config = tmp_path / "config.yaml"
        config.write_text(
            f"repo: {repo}\n"
            f"kubeconfig: {sim.write_kubeconfig(tmp_path / 'kubeconfig')}\n"
            f"web: {{scheme: http, connect_to: '127.0.0.1:{web.port}', timeout: 2}}\n"
            f"s3: {{endpoint: 'http://127.0.0.1:{s3.port}', access_key: AK, secret_key: SK,"
            " timeout: 2}\n"
        )
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(config))
        monkeypatch.setenv("COLUMNS", "250")
        monkeypatch.delenv("KUBECONFIG", raising=False)
        checked = datetime.now(UTC) - timedelta(minutes=10, seconds=20)
        here = connect(load_settings()).cluster
        SmokeRecord().save_many(
            {
                "smoked": SmokeOutcome(True, (), checked, "abc123", "pass", here),
                "crashy": SmokeOutcome(False, ("pods: x",), checked, "abc123", "fail", here),
            }
        )
        yield sim


SYMBOL = {"healthy": "✔", "degraded": "✖", "failed": "✖", "missing": "⊘", "progressing": "◐",
          "maintenance": "⚠"}  # fmt: skip


def expected_cells(record: dict) -> dict[str, str]:
    """What the console's row must read, column by column, given the JSON record."""
    smoke = record["smoke"]
    smoke_symbol = {"pass": "✔", "warn": "!", "fail": "✖"}
    return {
        "tenant": record["name"],
        "health": f"{SYMBOL.get(record['health'], '?')} {record['health']}",
        "reason": record["reason"],
        # The simulator without real platform servers leaves Alertmanager unconfigured.
        "alerts": "– n/a" if record["alerts_firing"] is None else f"{record['alerts_firing']}",
        "sync": {"Synced": "✔ synced", "OutOfSync": "↻ out of sync"}[record["sync"]],
        "smoke": f"{smoke_symbol[smoke['status']]} {smoke['status']} 10m" if smoke else "–",
        "pods": f"{record['pods_ready']}/{record['pods_desired']}",
        "restarts": str(record["restarts"]),
        "version": record["version"],
        "s3": f"✔ {record['s3']}",
        "env": record["environment"],
    }


async def test_status_json_table_and_console_row_agree(cluster, capsys) -> None:
    assert run_guarded(cli, ["status", "--format", "json"]) == 1
    records = {t["name"]: t for t in json.loads(capsys.readouterr().out)["tenants"]}
    assert run_guarded(cli, ["status"]) == 1
    table_lines = capsys.readouterr().out.splitlines()
    # The cases this test is about, as the JSON says them.
    assert (records["rolling"]["pods_ready"], records["rolling"]["pods_desired"]) == (1, 1)
    assert records["crashy"]["reason"] == "CrashLoopBackOff (3 restarts)"
    assert records["sleepy"]["maintenance"] is True
    assert records["sleepy"]["health"] == "maintenance"
    assert records["smoked"]["smoke"]["status"] == "pass" and records["rolling"]["smoke"] is None

    settings = load_settings()
    # As `ncconsole` opens it: reading the shared platform too.
    fleet = FleetState(settings, timing=FAST, platform_reader=platform_reader(settings))
    app = make_app(fleet, settings)
    async with app.run_test(size=(250, 40)) as pilot:
        table = app.screen.query_one(FleetTable)

        def cell(name: str, column: str) -> str:
            try:
                return table.get_cell(tenant_key(name), column).plain
            except Exception:  # the row is not there yet
                return ""

        def probed() -> bool:
            pending = ("", "…", "… pending")
            return all(cell(n, c) not in pending for n in TENANTS for c in ("version", "s3"))

        await wait_for(pilot, probed, 20)
        for name, record in records.items():
            expected = expected_cells(record)
            row = {column.key: cell(name, column.key) for column in table.layout_columns}
            # PROBED is the age of each reader's own probe answers: a clock, not a judgement.
            assert row.pop("checked")
            assert row == expected, name
            line = next(line for line in table_lines if line.startswith(f"{name} "))
            assert all(text in line for text in row.values()), (name, line)
