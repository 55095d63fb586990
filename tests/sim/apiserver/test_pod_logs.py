"""pods/log against the simulator, by `kubectl logs` and the Python client: the kubelet's choice
of run (current, previous, a crash-looping container's last run), the apiserver's option checks,
tailLines, sinceSeconds, timestamps, limitBytes and follow=true streaming."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ncconsole.sim.apiserver.resources import PODS
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, kubectl, scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "calm", "wave": 0, "replicas": 1},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"stale_crashloop": True}},
]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path_factory.mktemp("sim")) as s:
        yield s


@pytest.fixture(scope="module")
def v1(sim: Simulator) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(sim))


def pods(sim: Simulator, tenant: str) -> list[dict]:
    return sorted(
        sim.call(sim.store.list, PODS, f"nc-{tenant}"), key=lambda p: p["metadata"]["name"]
    )


def ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def running_pod(sim: Simulator, tenant: str) -> str:
    found = wait_until(lambda: [p for p in pods(sim, tenant) if ready(p)], what="a Ready pod")
    return found[0]["metadata"]["name"]


def test_previous_logs_of_a_crash_looping_pod_carry_the_crash_reason(sim, v1) -> None:
    name = pods(sim, "crashy")[0]["metadata"]["name"]
    previous = v1.read_namespaced_pod_log(name, "nc-crashy", container="nextcloud", previous=True)
    assert "FATAL:  no more connections allowed (max_client_conn)" in previous.splitlines()[-1]
    assert "Initializing nextcloud" in previous
    # In CrashLoopBackOff there is no running run: the kubelet shows the one that crashed.
    current = v1.read_namespaced_pod_log(name, "nc-crashy", container="nextcloud")
    assert "max_client_conn" in current


def test_previous_of_a_container_that_never_restarted_is_the_kubelets_400(sim, v1) -> None:
    name = running_pod(sim, "calm")
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_pod_log(name, "nc-calm", container="nextcloud", previous=True)
    assert err.value.status == 400
    assert f'previous terminated container \\"nextcloud\\" in pod \\"{name}\\" not found' in str(
        err.value.body
    )
    proc = kubectl(sim, "logs", "-n", "nc-calm", name, "--previous", check=False)
    assert proc.returncode == 1
    assert "previous terminated container" in proc.stderr and "not found" in proc.stderr


def test_tail_since_timestamps_and_limit_bytes(sim, v1) -> None:
    # A run that ended does not change: read it several ways and compare.
    ended = pods(sim, "crashy")[1]["metadata"]["name"]
    full = v1.read_namespaced_pod_log(ended, "nc-crashy", previous=True).splitlines()
    tail = v1.read_namespaced_pod_log(ended, "nc-crashy", previous=True, tail_lines=2)
    assert len(full) > 2 and tail.splitlines() == full[-2:]
    stamped = v1.read_namespaced_pod_log(ended, "nc-crashy", previous=True, timestamps=True)
    assert all(STAMP.match(line) for line in stamped.splitlines())
    assert [STAMP.sub("", line) for line in stamped.splitlines()] == full
    limited = v1.read_namespaced_pod_log(ended, "nc-crashy", previous=True, limit_bytes=10)
    assert limited == "\n".join(full)[:10]
    # Entrypoint lines are older than a second; only the newest probe lines are that recent.
    name = running_pod(sim, "calm")
    wait_until(
        lambda: "kube-probe" in v1.read_namespaced_pod_log(name, "nc-calm"), what="a probe line"
    )
    wait_until(
        lambda: (
            "Initializing finished"
            not in v1.read_namespaced_pod_log(name, "nc-calm", since_seconds=1)
        ),
        what="the entrypoint lines to fall out of the last second",
    )
    assert "Initializing finished" in v1.read_namespaced_pod_log(name, "nc-calm")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tail_lines": -1}, "tailLines"),
        ({"since_seconds": 0}, "sinceSeconds"),
        ({"limit_bytes": 0}, "limitBytes"),
    ],
)
def test_bad_options_are_422_invalid(sim, v1, query, message) -> None:
    name = running_pod(sim, "calm")
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_pod_log(name, "nc-calm", **query)
    assert err.value.status == 422 and message in str(err.value.body)


def test_follow_streams_new_lines_until_the_pod_goes(sim, v1) -> None:
    name = running_pod(sim, "calm")
    response = v1.read_namespaced_pod_log(
        name, "nc-calm", follow=True, tail_lines=0, _preload_content=False
    )
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for chunk in response.stream(1024):
            seen.extend(chunk.decode().splitlines())
        done.set()

    threading.Thread(target=read, daemon=True).start()
    wait_until(lambda: any("kube-probe" in line for line in seen), what="a followed probe line")
    assert not done.is_set()
    assert not any("Initializing" in line for line in seen)  # tail 0: only new lines
    sim.kill_pod("calm", name)
    assert done.wait(10), "the follow stream did not end when its pod went away"


def test_kubectl_logs_by_label_with_prefix(sim: Simulator) -> None:
    out = kubectl(
        sim, "logs", "-n", "nc-crashy", "-l", "app.kubernetes.io/name=nextcloud",
        "--prefix", "--previous", "--tail=1",
    ).stdout  # fmt: skip
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("[pod/nextcloud-") and "max_client_conn" in line for line in lines)


def test_a_stale_crash_loop_ends_with_new_pods(sim: Simulator) -> None:
    crashing = pods(sim, "crashy")[0]["metadata"]["name"]
    sim.kill_pod("crashy", crashing)
    replacement = wait_until(
        lambda: [p for p in pods(sim, "crashy") if p["metadata"]["name"] != crashing and ready(p)],
        what="the replacement pod Ready",
    )
    assert replacement
