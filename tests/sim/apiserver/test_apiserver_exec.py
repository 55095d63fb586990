"""Pod exec over WebSocket and pod logs, through kubernetes.stream and the typed client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from ncconsole.sim.apiserver.exec_ws import ExecRequest, command_not_found
from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from tests.sim.sim_helpers import pod_exec

pytestmark = pytest.mark.timeout(30)
BIG = 3 * 1024 * 1024


async def fake_shell(req: ExecRequest) -> int:
    """`echo ...`, `big` (streams 3 MiB), `fail N` (stderr, exit N), `cat` (echoes stdin)."""
    match req.command:
        case ["echo", *words]:
            await req.write_stdout(" ".join(words) + f" from {req.container}\n")
            return 0
        case ["big"]:
            for _ in range(BIG // 65536):
                await req.write_stdout(b"x" * 65536)
            return 0
        case ["fail", code]:
            await req.write_stderr("it broke\n")
            return int(code)
        case ["cat"]:
            while (chunk := await req.read_stdin()) is not None:
                await req.write_stdout(chunk)
            return 0
    return 127


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": "nc-x"}})
        srv.call(
            srv.store.create,
            PODS,
            {
                "metadata": {"name": "nextcloud-0", "namespace": "nc-x"},
                "spec": {
                    "containers": [{"name": "nextcloud"}, {"name": "redis"}],
                    "nodeName": "worker-1",
                },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": c,
                            "containerID": f"containerd://{c}",
                            "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}},
                        }
                        for c in ("nextcloud", "redis")
                    ],
                },
            },
        )
        srv.api.exec_handler = fake_shell
        yield srv


@pytest.fixture(scope="module")
def v1(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.CoreV1Api:
    path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    return client.CoreV1Api(config.new_client_from_config(str(path)))


def run(
    v1: client.CoreV1Api, command: list[str], container: str = "nextcloud", pod: str = "nextcloud-0"
):
    return pod_exec(v1, "nc-x", pod, command, container=container)


def test_exec_streams_stdout_and_reports_success(v1: client.CoreV1Api) -> None:
    resp = run(v1, ["echo", "hello"])
    assert resp.read_stdout() == "hello from nextcloud\n"
    assert resp.returncode == 0 and not resp.is_open()


def test_exec_non_zero_exit_code_and_stderr(v1: client.CoreV1Api) -> None:
    resp = run(v1, ["fail", "3"], container="redis")
    assert resp.read_stderr() == "it broke\n" and resp.returncode == 3


def test_exec_output_larger_than_a_frame_arrives_whole(v1: client.CoreV1Api) -> None:
    out = stream(
        v1.connect_get_namespaced_pod_exec,
        "nextcloud-0",
        "nc-x",
        command=["big"],
        container="nextcloud",
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
    )
    assert len(out) == BIG


def test_exec_passes_stdin(v1: client.CoreV1Api) -> None:
    resp = stream(
        v1.connect_get_namespaced_pod_exec,
        "nextcloud-0",
        "nc-x",
        command=["cat"],
        container="nextcloud",
        stdout=True,
        stderr=True,
        stdin=True,
        tty=False,
        _preload_content=False,
    )
    resp.write_stdin("ping\n")
    resp.update(timeout=5)
    got = ""
    for _ in range(50):
        got += resp.read_stdout(timeout=0.1)
        if got:
            break
    resp.close()
    assert got == "ping\n"


def test_default_handler_says_command_not_found(server: SimServer, v1: client.CoreV1Api) -> None:
    server.call(setattr, server.api, "exec_handler", command_not_found)
    try:
        resp = run(v1, ["ls"])
        assert resp.returncode == 127 and "executable file not found" in resp.read_stderr()
    finally:
        server.call(setattr, server.api, "exec_handler", fake_shell)


def test_exec_into_a_missing_container_or_pod_fails_like_kubernetes(v1: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing_container:
        run(v1, ["echo"], container="nope")
    # The client reports a failed WebSocket handshake as status 0 with the HTTP answer inside.
    assert "Handshake status 400" in missing_container.value.reason
    assert "container nope is not valid for pod nextcloud-0" in missing_container.value.reason
    with pytest.raises(ApiException) as missing_pod:
        run(v1, ["echo"], pod="gone")
    assert "Handshake status 404" in missing_pod.value.reason
    assert 'pods \\"gone\\" not found' in missing_pod.value.reason


def test_pod_logs_come_from_the_log_provider(server: SimServer, v1: client.CoreV1Api) -> None:
    server.call(
        setattr,
        server.api.logs,
        "source",
        lambda ns, pod, run, until: "".join(f"{run.container} line {i}\n" for i in range(10)),
    )
    text = v1.read_namespaced_pod_log("nextcloud-0", "nc-x", container="redis", tail_lines=2)
    assert text == "redis line 8\nredis line 9\n"
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_pod_log("nextcloud-0", "nc-x")  # two containers: must choose
    assert exc.value.status == 400
