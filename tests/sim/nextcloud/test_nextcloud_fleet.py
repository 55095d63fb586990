"""occ through real `kubectl exec` and kubernetes.stream against the simulated API server, and
the same instance's status.php: what a user of the console sees end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from kubernetes import client, config

from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import now_iso
from ncconsole.sim.controllers.kubelet import crashed_status, running_status
from ncconsole.sim.nextcloud.fleet import NextcloudFleet, run_as_user
from ncconsole.sim.nextcloud.web import NextcloudWeb
from ncconsole.sim.scenario import Scenario
from tests.sim.sim_helpers import KUBECTL, pod_exec

pytestmark = pytest.mark.timeout(60)


def pod(name: str, namespace: str, run_as: int | None = None, crashed: bool = False) -> dict:
    """A pod running for a minute (or crash-looping), with the kubelet's container status."""
    spec: dict = {
        "containers": [
            {"name": "nextcloud", "image": "nextcloud:30.0.6-apache"},
            {"name": "nextcloud-nginx", "image": "nginx:alpine"},
        ]
    }
    if run_as is not None:
        spec["securityContext"] = {"runAsUser": run_as, "fsGroup": run_as}
    obj = {"metadata": {"name": name, "namespace": namespace}, "spec": {**spec, "nodeName": "w1"}}
    started = (datetime.now(UTC) - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj["status"] = running_status(obj, started, ready=not crashed)
    if crashed:
        obj["status"] = crashed_status(obj["status"], name, 10, now_iso())
    return obj


@pytest.fixture(scope="module")
def fleet() -> NextcloudFleet:
    scenario = Scenario.model_validate(
        {
            "tenants": [
                {"name": "zwolle", "wave": 0},
                {"name": "leiden", "wave": 1},
                {"name": "deventer", "wave": 1, "faults": {"degraded": True}},
            ]
        }
    )
    return NextcloudFleet.from_scenario(scenario)


@pytest.fixture(scope="module")
def server(fleet: NextcloudFleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        for ns in ("nc-zwolle", "nc-leiden", "nc-deventer", "nc-platform"):
            srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": ns}})
        srv.call(srv.store.create, PODS, pod("nextcloud-7c9d-abcde", "nc-zwolle"))
        srv.call(srv.store.create, PODS, pod("nextcloud-5f6a-fghij", "nc-leiden", run_as=33))
        srv.call(srv.store.create, PODS, pod("nextcloud-1b2c-klmno", "nc-deventer", crashed=True))
        srv.call(srv.store.create, PODS, pod("redis-6d5f-pqrst", "nc-platform"))
        srv.api.exec_handler = fleet.exec_handler
        srv.api.logs.source = fleet.log_source
        yield srv


@pytest.fixture(scope="module")
def v1(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.CoreV1Api:
    path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    return client.CoreV1Api(config.new_client_from_config(str(path)))


@pytest.fixture(scope="module")
def kubectl_env(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("kubectl-home")
    kubeconfig = server.write_kubeconfig(home / "kubeconfig")
    return {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home)}


def test_su_form_runs_occ_over_the_exec_websocket(v1):
    command = ["su", "-s", "/bin/sh", "www-data", "-c", "php occ status --output=json"]
    resp = pod_exec(v1, "nc-zwolle", "nextcloud-7c9d-abcde", command)
    assert resp.returncode == 0
    assert '"versionstring":"30.0.6"' in resp.read_stdout()


def test_php_occ_in_a_root_pod_fails_and_in_a_uid_33_pod_works(v1):
    root = pod_exec(v1, "nc-zwolle", "nextcloud-7c9d-abcde", ["php", "occ", "status"])
    assert root.returncode == 1
    assert "Console has to be executed with the user that owns" in root.read_stdout()
    www = pod_exec(v1, "nc-leiden", "nextcloud-5f6a-fghij", ["php", "/var/www/html/occ", "status"])
    assert www.returncode == 0 and "  - installed: true" in www.read_stdout()


def test_sidecar_has_no_php(v1):
    resp = pod_exec(
        v1, "nc-zwolle", "nextcloud-7c9d-abcde", ["php", "occ", "status"], "nextcloud-nginx"
    )
    assert resp.returncode == 127 and "executable file not found" in resp.read_stderr()


def test_kubectl_exec_maintenance_mode_shows_in_status_php(fleet, kubectl_env):
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    web = NextcloudWeb(fleet.by_host)
    web.start_in(loop)
    try:
        on = subprocess.run(
            [str(KUBECTL), "exec", "-n", "nc-zwolle", "nextcloud-7c9d-abcde", "-c", "nextcloud",
             "--", "su", "-s", "/bin/sh", "www-data", "-c", "php occ maintenance:mode --on"],
            env=kubectl_env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert (on.returncode, on.stdout) == (0, "Maintenance mode enabled\n"), on.stderr
        status = httpx.get(
            f"{web.url}/status.php", headers={"Host": "zwolle.nextcloud.example.com"}, timeout=5
        )
        assert status.status_code == 200 and status.json()["maintenance"] is True
        check = subprocess.run(
            [str(KUBECTL), "exec", "-n", "nc-zwolle", "nextcloud-7c9d-abcde", "-c", "nextcloud",
             "--", "su", "-s", "/bin/sh", "www-data", "-c", "php occ status -e"],
            env=kubectl_env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert check.returncode == 1  # kubectl passes on occ's exit code: 1 = maintenance
        assert check.stdout == ""  # -e writes nothing to stdout (core/Command/Status.php)
    finally:
        web.stop_in(loop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_pod_logs_show_the_nextcloud_image_starting_or_crashing(v1):
    log = v1.read_namespaced_pod_log("nextcloud-7c9d-abcde", "nc-zwolle", container="nextcloud")
    assert "Initializing nextcloud 30.0.6.2 ..." in log
    assert "AH00163: Apache/2.4.62 (Debian)" in log
    assert '"GET /status.php HTTP/1.1" 200' in log
    crashed = v1.read_namespaced_pod_log(
        "nextcloud-1b2c-klmno", "nc-deventer", container="nextcloud"
    )
    assert crashed.splitlines()[-1].startswith("PHP Fatal error:  Uncaught Doctrine")
    assert "FATAL:  no more connections allowed (max_client_conn)" in crashed
    other = v1.read_namespaced_pod_log("redis-6d5f-pqrst", "nc-platform", container="nextcloud")
    assert "Initializing nextcloud" not in other


def test_lookups_and_run_as_user(fleet):
    assert fleet.by_host("ZWOLLE.nextcloud.example.com") is fleet.tenant("zwolle")
    assert fleet.for_namespace("nc-leiden") is fleet.tenant("leiden")
    assert fleet.for_namespace("nc-platform") is None and len(fleet) == 3
    spec = {"spec": {"securityContext": {"runAsUser": 33}, "containers": [{"name": "nextcloud"}]}}
    assert run_as_user(spec, "nextcloud") == 33
    spec["spec"]["containers"][0]["securityContext"] = {"runAsUser": 0}
    assert run_as_user(spec, "nextcloud") == 0
