"""A whole simulated platform, driven with kubectl and the real kubernetes client."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from kubernetes import client, watch
from kubernetes.stream import stream
from urllib3.exceptions import MaxRetryError

from ncconsole.sim.s3 import ExternalS3, S3Service
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, kubectl, scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "environment": "test", "replicas": 2},
    {"name": "alpha", "wave": 1, "replicas": 3},
    {"name": "beta", "wave": 1, "replicas": 1},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path_factory.mktemp("sim")) as running:
        yield running


@pytest.fixture(scope="module")
def core(sim: Simulator) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(sim))


def ready_pods(core: client.CoreV1Api, namespace: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace).items
    return [
        p
        for p in pods
        if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]


def test_workdir_holds_repo_config_and_kubeconfig(sim: Simulator) -> None:
    assert (sim.repo / ".git").is_dir()
    assert (sim.repo / "values" / "tenants" / "tenant-alpha.yaml").is_file()
    config_text = sim.config_path.read_text()
    assert f"connect_to: {sim.web_address}" in config_text
    assert sim.kubeconfig.is_file() and sim.ca_file.is_file()


def test_kubectl_get_pods_shows_every_tenants_running_pods(sim: Simulator) -> None:
    lines = kubectl(sim, "get", "pods", "-A", "--no-headers").stdout.splitlines()
    rows = [line.split() for line in lines]
    by_ns: dict[str, list[list[str]]] = {}
    for row in rows:
        by_ns.setdefault(row[0], []).append(row)
    assert {ns: len(r) for ns, r in by_ns.items() if ns.startswith("nc-")} == {
        "nc-canary": 2, "nc-alpha": 3, "nc-beta": 1, "nc-platform": 3,
    }  # fmt: skip
    for row in by_ns["nc-alpha"]:
        assert row[1].startswith("nextcloud-") and len(row[1].split("-")) == 3
        assert row[2:4] == ["1/1", "Running"]


def test_applications_are_labelled_synced_and_healthy(sim: Simulator) -> None:
    doc = json.loads(kubectl(sim, "get", "applications.argoproj.io", "-A", "-o", "json").stdout)
    apps = {a["metadata"]["name"]: a for a in doc["items"]}
    assert sorted(apps) == ["nc-alpha", "nc-beta", "nc-canary"]
    alpha = apps["nc-alpha"]
    assert alpha["metadata"]["labels"] == {"tenant": "alpha", "wave": "1"}
    assert alpha["status"]["sync"]["status"] == "Synced"
    assert alpha["status"]["health"]["status"] == "Healthy"
    assert alpha["status"]["summary"]["images"] == ["nextcloud:30.0.6-apache"]
    head = (sim.repo / ".git" / "refs" / "heads" / "main").read_text().strip()
    assert alpha["status"]["sync"]["revisions"] == ["6.6.4", head]  # chart, values commit


def test_kubectl_exec_on_the_deployment_runs_occ_in_a_pod(sim: Simulator) -> None:
    proc = kubectl(
        sim, "exec", "-n", "nc-alpha", "deploy/nextcloud", "--",
        "su", "-s", "/bin/sh", "www-data", "-c", "php occ status --output=json",
    )  # fmt: skip
    status = json.loads(proc.stdout)
    assert status["installed"] is True and status["versionstring"] == "30.0.6"
    as_root = kubectl(sim, "exec", "-n", "nc-alpha", "deploy/nextcloud", "--", "php", "occ",
                      "status", check=False)  # fmt: skip
    assert as_root.returncode == 1 and "Owner id of config.php: 33" in as_root.stdout


def test_pod_logs_look_like_nextclouds_apache(sim: Simulator, core: client.CoreV1Api) -> None:
    pod = core.list_namespaced_pod("nc-beta").items[0].metadata.name

    # Apache starts half a second into the container's run, as the entrypoint's lines do.
    def once_apache_started() -> str:
        text = core.read_namespaced_pod_log(pod, "nc-beta", container="nextcloud")
        return text if "resuming normal operations" in text else ""

    text = wait_until(once_apache_started, 30, "Apache's start in the log")
    assert text.startswith("Configuring Redis as session handler")
    assert "Apache/2.4.62 (Debian) PHP/8.3.14 configured" in text


def test_tenant_secret_has_the_chart_keys_and_working_s3_keys(
    sim: Simulator, core: client.CoreV1Api
) -> None:
    secret = core.read_namespaced_secret("nextcloud-secrets", "nc-alpha")
    values = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert sorted(values) == sorted([
        "nextcloud-username", "nextcloud-password", "s3-access-key", "s3-secret-key",
        "db-password", "redis-password", "nextcloud-secret",
    ])  # fmt: skip
    s3 = boto3.client(
        "s3", endpoint_url=sim.s3_endpoint, region_name="us-east-1",
        aws_access_key_id=values["s3-access-key"], aws_secret_access_key=values["s3-secret-key"],
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="nextcloud-alpha")["Contents"]]
    assert keys and all(k.startswith("urn:oid:") for k in keys)


def test_a_killed_pod_is_replaced_and_becomes_ready(sim: Simulator, core: client.CoreV1Api) -> None:
    killed = sim.kill_pod("alpha")

    def replaced() -> list[str]:
        names = [p.metadata.name for p in ready_pods(core, "nc-alpha")]
        return names if len(names) == 3 and killed not in names else []

    names = wait_until(replaced, what="a replacement pod")
    new = next(n for n in names if n != killed)
    events = core.list_namespaced_event("nc-alpha").items
    reasons = {e.reason for e in events if e.involved_object.name in names}
    assert {"Scheduled", "Pulled", "Started"} <= reasons
    assert new.split("-")[1] == killed.split("-")[1]  # same template hash


def test_a_template_change_rolls_every_pod(sim: Simulator, core: client.CoreV1Api) -> None:
    apps = client.AppsV1Api(api_client(sim))
    old = {p.metadata.name for p in core.list_namespaced_pod("nc-canary").items}
    patch = {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}
    apps.patch_namespaced_deployment("nextcloud", "nc-canary", patch)

    def rolled() -> bool:
        d = apps.read_namespaced_deployment("nextcloud", "nc-canary")
        pods = {p.metadata.name for p in ready_pods(core, "nc-canary")}
        return (
            d.status.observed_generation == d.metadata.generation
            and d.status.updated_replicas == 2 and d.status.ready_replicas == 2
            and d.status.available_replicas == 2 and len(pods) == 2 and not pods & old
        )  # fmt: skip

    wait_until(rolled, what="the rollout")
    messages = [e.message for e in core.list_namespaced_event("nc-canary").items]
    assert any(m.startswith("Scaled down replica set nextcloud-") for m in messages)
    assert any(m.startswith("Created pod: nextcloud-") for m in messages)
    assert "Stopping container nextcloud" in messages
    done = kubectl(sim, "rollout", "status", "-n", "nc-canary", "deploy/nextcloud", "--timeout=10s")
    assert 'deployment "nextcloud" successfully rolled out' in done.stdout
    logs = kubectl(sim, "logs", "-n", "nc-canary", "deploy/nextcloud", "--tail=3").stdout
    assert len(logs.splitlines()) == 3


def test_api_server_stops_and_comes_back_on_the_same_port_with_the_same_data(tmp_path) -> None:
    spec = scenario([{"name": "solo", "wave": 0, "replicas": 1}])
    with Simulator(spec, workdir=tmp_path) as sim:
        core = client.CoreV1Api(api_client(sim))
        pods = core.list_namespaced_pod("nc-solo")
        version = pods.metadata.resource_version
        port = sim.server.port if sim.server else 0
        sim.stop_api()
        with pytest.raises(MaxRetryError):
            client.CoreV1Api(api_client(sim)).list_namespaced_pod("nc-solo", _request_timeout=2)
        sim.kill_pod("solo")  # the cluster goes on while its API is down
        sim.start_api()
        assert sim.server is not None and sim.server.port == port
        core = client.CoreV1Api(api_client(sim))
        seen = [
            (e["type"], e["object"].metadata.name)
            for e in watch.Watch().stream(
                core.list_namespaced_pod, "nc-solo", resource_version=version, timeout_seconds=1
            )
        ]
        assert ("DELETED", pods.items[0].metadata.name) in seen


def test_exec_through_the_kubernetes_client_streams_occ_output(
    sim: Simulator, core: client.CoreV1Api
) -> None:
    pod = core.list_namespaced_pod("nc-beta").items[0].metadata.name
    resp = stream(
        core.connect_get_namespaced_pod_exec, pod, "nc-beta", container="nextcloud",
        command=["su", "-s", "/bin/sh", "www-data", "-c", "php occ app:list --output=json"],
        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    resp.run_forever(timeout=10)
    assert resp.returncode == 0
    apps = json.loads(resp.read_stdout())
    assert "files" in apps["enabled"] and "encryption" in apps["disabled"]


def test_an_external_s3_gets_the_buckets_and_its_keys_go_into_tenant_secrets(tmp_path) -> None:
    with S3Service() as real:  # stands in for a Ceph RGW outside the simulator
        external = ExternalS3(real.endpoint_url, "RGWACCESSKEY", "rgw-secret-key")
        spec = scenario([{"name": "ext", "wave": 0, "replicas": 1}])
        with Simulator(spec, workdir=tmp_path, s3=external) as sim:
            secret = client.CoreV1Api(api_client(sim)).read_namespaced_secret(
                "nextcloud-secrets", "nc-ext"
            )
            assert base64.b64decode(secret.data["s3-access-key"]) == b"RGWACCESSKEY"
            assert f"endpoint: {real.endpoint_url}" in sim.config_path.read_text()
            assert real.bucket_exists("nextcloud-ext")
        real.delete_bucket("nextcloud-ext")
