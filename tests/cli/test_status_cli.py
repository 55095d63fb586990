"""`ncconsole status` against the simulator's API, a status.php server and an RGW-like S3."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator
from tests.cluster_objects import add_tenant, pod
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.probes.servers import ServerThread

pytestmark = pytest.mark.timeout(30)

STATUS = json.dumps(
    {
        "installed": True,
        "maintenance": False,
        "needsDbUpgrade": False,
        "version": "30.0.6.2",
        "versionstring": "30.0.6",
    }
).encode()


def nextcloud(method, path, headers):
    return 200, {"Content-Type": "application/json"}, STATUS


def rgw(method, path, headers):
    return 200, {"X-RGW-Object-Count": "7", "X-RGW-Bytes-Used": "2048"}, b""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    with (
        SimServer(tls_dir=tmp_path / "tls") as sim,
        ServerThread(nextcloud) as web,
        ServerThread(rgw) as s3,
    ):
        sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
        add_tenant(sim, "canary", 0)
        add_tenant(sim, "alpha", 1)
        repo = write_repo(
            tmp_path / "repo",
            {
                "tenant-canary.yaml": tenant_yaml("canary", wave='"0"'),
                "tenant-alpha.yaml": tenant_yaml("alpha", wave='"1"'),
            },
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
        monkeypatch.setenv("COLUMNS", "200")
        monkeypatch.delenv("KUBECONFIG", raising=False)
        yield sim


def test_table_groups_tenants_by_wave_canary_first_and_exits_0(env, capsys) -> None:
    code = run_guarded(cli, ["status"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.index("wave 0 (canary) · 1 tenant · 1 healthy") < out.index("wave 1 · 1 tenant")
    canary_line = next(line for line in out.splitlines() if line.startswith("canary"))
    assert "✔ healthy" in canary_line and "30.0.6" in canary_line and "1/1" in canary_line
    assert "context ncconsole-sim" in out


def test_json_reports_unhealthy_tenant_and_exits_1(env, capsys) -> None:
    crashed = pod("alpha", "nextcloud-alpha-0", ready=False, waiting="CrashLoopBackOff")
    env.call(env.store.update, PODS, "nc-alpha", "nextcloud-alpha-0", lambda _: crashed)
    code = run_guarded(cli, ["status", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    alpha = next(t for t in data["tenants"] if t["name"] == "alpha")
    assert alpha["health"] == "degraded" and alpha["reason"] == "CrashLoopBackOff (3 restarts)"
    assert alpha["restarts"] == 3 and alpha["pods_ready"] == 0
    canary = next(t for t in data["tenants"] if t["name"] == "canary")
    assert canary["s3"] == "ok" and canary["s3_objects"] == 7 and canary["version"] == "30.0.6"
    # Only the healthy canary wave: exit 0.
    assert run_guarded(cli, ["status", "--wave", "0", "--format", "json"]) == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)["tenants"]] == ["canary"]


def test_unknown_wave_is_an_error_naming_the_waves(env, capsys) -> None:
    assert run_guarded(cli, ["status", "--wave", "7"]) == 2
    assert "wave 7: no tenants in it (waves: 0, 1)" in capsys.readouterr().err


def test_unreachable_api_is_one_line_and_exit_2(env, tmp_path, capsys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = json.loads((tmp_path / "kubeconfig").read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(json.dumps(config))
    code = run_guarded(cli, ["status", "--kubeconfig", str(dead)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "connection refused" in err


def test_unknown_context_is_one_line_and_exit_2(env, capsys) -> None:
    assert run_guarded(cli, ["status", "--context", "nope"]) == 2
    err = capsys.readouterr().err
    assert "context 'nope' not found" in err and "Traceback" not in err


# -- against the whole simulated platform: status.php over HTTPS with SNI, tenant S3 keys ----

FAULTY = [
    ("canary", 0, {}),
    ("crashy", 1, {"degraded": True}),
    ("sleepy", 1, {"maintenance": True}),
    ("bucketless", 2, {"bucket_missing": True}),
    ("broken", 2, {"statusphp_500": True}),
    ("fine", 2, {}),
]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    scenario = Scenario.model_validate(
        {"tenants": [{"name": n, "wave": w, "replicas": 1, "faults": f} for n, w, f in FAULTY]}
    )
    with Simulator(scenario, workdir=tmp_path_factory.mktemp("platform")) as sim:
        yield sim


@pytest.mark.timeout(60)
def test_every_fault_of_the_platform_gets_its_reason(platform, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NCCONSOLE_CONFIG", str(platform.config_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    expected = {
        "canary": ("healthy", ""),
        "fine": ("healthy", ""),
        "sleepy": ("maintenance", "maintenance on"),
        "bucketless": ("degraded", "bucket missing"),
        "broken": ("degraded", "status.php: HTTP 500"),
    }
    deadline = time.monotonic() + 30
    while True:  # the simulated controllers need a moment to crash-loop the degraded pods
        code = run_guarded(cli, ["status", "--format", "json"])
        data = json.loads(capsys.readouterr().out)
        by_name = {t["name"]: t for t in data["tenants"]}
        got = {n: (by_name[n]["health"], by_name[n]["reason"]) for n in expected}
        crashy = by_name["crashy"]
        if (got == expected and crashy["health"] == "degraded") or time.monotonic() > deadline:
            break
    assert code == 1
    assert got == expected
    assert crashy["health"] == "degraded"
    assert "CrashLoopBackOff" in crashy["reason"] or "Degraded" in crashy["reason"]
    assert by_name["fine"]["s3"] == "ok" and by_name["fine"]["version"]
    assert data["platform"]["secret_store_ready"] is True


def test_a_tenant_not_probed_within_the_wait_is_pending_not_healthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """At 2,000 tenants about half the fleet used to print healthy without ever being
    probed: a tenant whose first status.php answer has not come is pending, and status
    exits 1 saying how many."""

    def slow_for_alpha(method, path, headers):
        if headers.get("host", "").startswith("alpha"):
            time.sleep(8)
        return nextcloud(method, path, headers)

    with (
        SimServer(tls_dir=tmp_path / "tls") as sim,
        ServerThread(slow_for_alpha) as web,
        ServerThread(rgw) as s3,
    ):
        sim.call(sim.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
        add_tenant(sim, "canary", 0)
        add_tenant(sim, "alpha", 1)
        repo = write_repo(
            tmp_path / "repo",
            {
                "tenant-canary.yaml": tenant_yaml("canary", wave='"0"'),
                "tenant-alpha.yaml": tenant_yaml("alpha", wave='"1"'),
            },
        )
        config = tmp_path / "config.yaml"
        config.write_text(
            f"repo: {repo}\n"
            f"kubeconfig: {sim.write_kubeconfig(tmp_path / 'kubeconfig')}\n"
            f"web: {{scheme: http, connect_to: '127.0.0.1:{web.port}', timeout: 10}}\n"
            f"s3: {{endpoint: 'http://127.0.0.1:{s3.port}', access_key: AK, secret_key: SK}}\n"
        )
        monkeypatch.setenv("NCCONSOLE_CONFIG", str(config))
        monkeypatch.setenv("COLUMNS", "200")
        monkeypatch.delenv("KUBECONFIG", raising=False)
        code = run_guarded(cli, ["status", "--probe-wait", "2s"])
        out = capsys.readouterr().out
        assert code == 1, out
        alpha = next(line for line in out.splitlines() if line.startswith("alpha"))
        assert "… pending" in alpha and "pending: status.php not probed yet" in alpha
        assert "✔ healthy" in next(line for line in out.splitlines() if line.startswith("canary"))
        assert "warning: 1 tenant(s) pending: not probed within the wait" in out


def test_a_one_shot_read_probes_each_tenant_once_as_fast_as_64_workers_allow() -> None:
    from ncconsole.cli.fleet_reading import one_shot_probes
    from ncconsole.settings import Settings

    settings = one_shot_probes(Settings())
    # Unpaced, 64 at a time: 2,000 tenants in well under the wait, not 10 probes a second.
    assert settings.web.concurrency == settings.s3.concurrency == 64
    assert settings.web.max_rate == settings.s3.max_rate == 0
    # One round per tenant: nothing is kept for a next round.
    assert settings.web.keepalive == 0
