"""Every scenario fault, seen the way a client sees it: kubernetes client, kubectl, httpx to
status.php, boto3 to S3."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, kubectl, scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "ok", "wave": 0, "replicas": 1},
    {"name": "failing", "wave": 1, "replicas": 1, "faults": {"sync_fails": True}},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"degraded": True}},
    {"name": "maint", "wave": 1, "replicas": 1, "faults": {"maintenance": True}},
    {"name": "old", "wave": 1, "replicas": 1, "faults": {"needs_db_upgrade": True}},
    {"name": "nobucket", "wave": 2, "replicas": 1, "faults": {"bucket_missing": True}},
    {"name": "err500", "wave": 2, "replicas": 1, "faults": {"statusphp_500": True}},
    {"name": "err503", "wave": 2, "replicas": 1, "faults": {"statusphp_503": True}},
    {"name": "slow", "wave": 2, "replicas": 1, "faults": {"statusphp_slow": 1.0}},
    {"name": "hidden", "wave": 2, "replicas": 1, "faults": {"namespace_forbidden": True}},
]
OCC_STATUS = ["su", "-s", "/bin/sh", "www-data", "-c", "php occ status --output=json"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(TENANTS, timings={"crashloop_backoff": 0.3})
    with Simulator(spec, workdir=tmp_path_factory.mktemp("faults")) as running:
        yield running


def custom(sim: Simulator) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client(sim))


def get_app(sim: Simulator, name: str) -> dict:
    return custom(sim).get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", name
    )


def status_php(sim: Simulator, tenant: str, timeout: float = 5.0) -> httpx.Response:
    return httpx.get(
        f"{sim.web_url}/status.php",
        headers={"Host": f"{tenant}.nextcloud.example.com"},
        verify=ssl.create_default_context(cafile=sim.ca_file),
        timeout=timeout,
    )


def test_sync_fails_retries_then_ends_the_operation_failed_with_a_message(
    sim: Simulator,
) -> None:
    operation = {
        "operation": {
            "initiatedBy": {"username": "ncconsole:t"}, "sync": {}, "retry": {"limit": 2},
        }
    }  # fmt: skip
    custom(sim).patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-failing", operation
    )
    seen: list[tuple[str, bool, int]] = []
    stream = watch.Watch().stream(
        custom(sim).list_namespaced_custom_object, "argoproj.io", "v1alpha1", "argocd",
        "applications", field_selector="metadata.name=nc-failing", timeout_seconds=20,
    )  # fmt: skip
    for event in stream:
        op = (event["object"].get("status") or {}).get("operationState") or {}
        seen.append((op.get("phase"), bool(op.get("finishedAt")), op.get("retryCount", 0)))
        if op.get("phase") == "Failed":
            break
    # A retry in backoff is Running with finishedAt set - not done yet.
    assert ("Running", True, 1) in seen and ("Running", True, 2) in seen
    assert seen[-1] == ("Failed", True, 2)
    app = get_app(sim, "nc-failing")
    assert "operation" not in app
    assert "one or more objects failed to apply" in app["status"]["operationState"]["message"]
    assert [c["type"] for c in app["status"]["conditions"]] == ["SyncError"]


def test_degraded_pods_crash_loop_with_rising_restarts_and_the_app_is_degraded(
    sim: Simulator,
) -> None:
    core = client.CoreV1Api(api_client(sim))

    def restarts() -> dict[str, int]:
        return {
            p.metadata.name: p.status.container_statuses[0].restart_count
            for p in core.list_namespaced_pod("nc-crashy").items
        }

    before = restarts()
    rows = kubectl(sim, "get", "pods", "-n", "nc-crashy", "--no-headers").stdout.splitlines()
    assert len(rows) == 2 and all(r.split()[1:3] == ["0/1", "CrashLoopBackOff"] for r in rows)
    wait_until(
        lambda: all(n > before[p] for p, n in restarts().items()), what="rising restartCount"
    )
    assert get_app(sim, "nc-crashy")["status"]["health"]["status"] == "Degraded"
    events = core.list_namespaced_event("nc-crashy").items
    backoff = [e for e in events if e.reason == "BackOff"]
    assert backoff and backoff[0].type == "Warning"
    wait_until(
        lambda: any(e.count > 1 for e in core.list_namespaced_event("nc-crashy").items
                    if e.reason == "BackOff"),
        what="a BackOff event counting up",
    )  # fmt: skip


def test_degraded_can_be_cleared_and_the_pods_recover(sim: Simulator) -> None:
    apps = client.AppsV1Api(api_client(sim))
    sim.set_fault("crashy", "degraded", False)

    def recovered() -> bool:
        d = apps.read_namespaced_deployment("nextcloud", "nc-crashy")
        return d.status.ready_replicas == 2

    wait_until(recovered, what="ready pods after the fault is cleared")
    wait_until(lambda: get_app(sim, "nc-crashy")["status"]["health"]["status"] == "Healthy")


def test_degrading_a_healthy_tenant_while_running_crash_loops_its_pods(sim: Simulator) -> None:
    core = client.CoreV1Api(api_client(sim))
    sim.set_fault("maint", "degraded", True)

    def crash_looping() -> bool:
        pods = core.list_namespaced_pod("nc-maint").items
        return bool(pods) and all(
            (cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff")
            for p in pods for cs in p.status.container_statuses
        )  # fmt: skip

    wait_until(crash_looping, what="CrashLoopBackOff")
    wait_until(lambda: get_app(sim, "nc-maint")["status"]["health"]["status"] == "Degraded")
    sim.set_fault("maint", "degraded", False)
    wait_until(lambda: get_app(sim, "nc-maint")["status"]["health"]["status"] == "Healthy")


def test_maintenance_shows_in_status_php_with_200_and_in_occ(sim: Simulator) -> None:
    reply = status_php(sim, "maint")
    assert reply.status_code == 200 and reply.json()["maintenance"] is True
    proc = kubectl(sim, "exec", "-n", "nc-maint", "deploy/nextcloud", "--", *OCC_STATUS)
    assert json.loads(proc.stdout)["maintenance"] is True
    off = ["su", "-s", "/bin/sh", "www-data", "-c", "php occ maintenance:mode --off"]
    kubectl(sim, "exec", "-n", "nc-maint", "deploy/nextcloud", "--", *off)
    assert status_php(sim, "maint").json()["maintenance"] is False


def test_needs_db_upgrade_shows_until_occ_upgrade(sim: Simulator) -> None:
    assert status_php(sim, "old").json()["needsDbUpgrade"] is True
    upgrade = ["su", "-s", "/bin/sh", "www-data", "-c", "php occ upgrade"]
    kubectl(sim, "exec", "-n", "nc-old", "deploy/nextcloud", "--", *upgrade)
    assert status_php(sim, "old").json()["needsDbUpgrade"] is False


def test_bucket_missing_answers_404_to_head_bucket(sim: Simulator) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=sim.s3_endpoint, region_name="us-east-1",
        aws_access_key_id="any", aws_secret_access_key="any",
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    s3.head_bucket(Bucket="nextcloud-ok")
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket="nextcloud-nobucket")
    assert err.value.response["Error"]["Code"] == "404"
    sim.set_fault("ok", "bucket_missing")
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="nextcloud-ok")


def test_status_php_500_503_and_slow(sim: Simulator) -> None:
    assert status_php(sim, "err500").status_code == 500
    assert status_php(sim, "err503").status_code == 503
    with pytest.raises(httpx.TimeoutException):
        status_php(sim, "slow", timeout=0.3)
    started = time.monotonic()
    assert status_php(sim, "slow").status_code == 200
    assert time.monotonic() - started >= 0.9
    sim.set_fault("err500", "statusphp_500", False)
    assert status_php(sim, "err500").status_code == 200


def test_namespace_forbidden_answers_403_and_can_i_says_no(sim: Simulator) -> None:
    core = client.CoreV1Api(api_client(sim))
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("nc-hidden")
    assert err.value.status == 403
    assert json.loads(err.value.body)["reason"] == "Forbidden"
    assert core.list_namespaced_pod("nc-ok").items
    can_i = kubectl(sim, "auth", "can-i", "list", "pods", "-n", "nc-hidden", check=False)
    assert can_i.stdout.strip() == "no" and can_i.returncode == 1


def test_read_only_user_may_read_but_not_patch(sim: Simulator) -> None:
    viewer = sim.write_kubeconfig(sim.workdir / "viewer.kubeconfig", user="viewer")
    assert kubectl(sim, "auth", "can-i", "get", "applications.argoproj.io", "-n", "argocd",
                   kubeconfig=viewer).stdout.strip() == "yes"  # fmt: skip
    denied = kubectl(sim, "auth", "can-i", "patch", "applications.argoproj.io", "-n", "argocd",
                     kubeconfig=viewer, check=False)  # fmt: skip
    assert denied.stdout.strip() == "no"
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api_client(sim, viewer)).patch_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", "nc-ok",
            {"metadata": {"annotations": {"x": "y"}}},
        )  # fmt: skip
    assert err.value.status == 403


def test_slow_api_and_dropped_watches_from_the_scenario(tmp_path) -> None:
    spec = scenario(
        [{"name": "ok", "wave": 0, "replicas": 1}],
        api={"latency": 0.3, "drop_watches_every": 1.0},
    )
    with Simulator(spec, workdir=tmp_path) as sim:
        core = client.CoreV1Api(api_client(sim))
        started = time.monotonic()
        core.list_namespaced_pod("nc-ok")
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        events = list(watch.Watch().stream(core.list_namespaced_pod, "nc-ok", timeout_seconds=30))
        took = time.monotonic() - started
        assert [e["type"] for e in events] == ["ADDED"]
        assert 1.0 <= took < 30  # ended by the server, not by its own 30 s timeout
        sim.set_api_faults(latency=0, drop_watches_every=0)
        faults = sim.call(lambda: sim.server.api.faults)  # type: ignore[union-attr]
        assert (faults.latency, faults.drop_watches_after) == (0, None)
        core.list_namespaced_pod("nc-ok")


def test_every_scenario_has_a_namespace_only_engineer(sim: Simulator) -> None:
    """The documented `engineer`: RoleBindings in the tenant namespaces and argocd only."""
    engineer = sim.write_kubeconfig(sim.workdir / "engineer.kubeconfig", user="engineer")
    core = client.CoreV1Api(api_client(sim, engineer))
    with pytest.raises(ApiException) as err:
        core.list_pod_for_all_namespaces()
    assert err.value.status == 403
    assert core.list_namespaced_pod("nc-ok").items
    assert kubectl(sim, "auth", "can-i", "list", "pods", "-A", kubeconfig=engineer,
                   check=False).stdout.strip() == "no"  # fmt: skip


def test_a_forbidden_namespace_forbids_the_cluster_wide_list_too(sim: Simulator) -> None:
    """nc-hidden is forbidden to everyone: nobody can hold a cluster-wide list of pods."""
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(api_client(sim)).list_pod_for_all_namespaces()
    assert err.value.status == 403
