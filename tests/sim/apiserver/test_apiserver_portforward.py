"""Pod port-forward over WebSocket: the frames the kubelet sends (port numbers first on the data
and error channels), bytes relayed to a real TCP server, the error channel when nothing
listens, and the refusals of a real API server."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import websocket
from kubernetes import client, config
from kubernetes.stream import portforward

from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    """A real TCP server on loopback that answers every line with `echo: <line>`."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                stream.write(b"echo: " + line)
                stream.flush()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, echo_port: int) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": "nc-platform"}})
        for name, phase in (("redis-0", "Running"), ("done-0", "Succeeded")):
            srv.call(srv.store.create, PODS, {
                "metadata": {"name": name, "namespace": "nc-platform"},
                "spec": {"containers": [{"name": "redis"}]}, "status": {"phase": phase},
            })  # fmt: skip
        srv.api.port_resolver = lambda ns, pod, port: (
            ("127.0.0.1", echo_port) if port == 6379 else None
        )
        yield srv


@pytest.fixture(scope="module")
def v1(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.CoreV1Api:
    path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    return client.CoreV1Api(config.new_client_from_config(str(path)))


def forward(v1: client.CoreV1Api, ports: str, pod: str = "redis-0"):
    return portforward(v1.connect_get_namespaced_pod_portforward, pod, "nc-platform", ports=ports)


def test_bytes_reach_the_real_server_behind_the_pod_port(v1: client.CoreV1Api) -> None:
    pf = forward(v1, "6379")
    sock = pf.socket(6379)
    sock.settimeout(5)
    sock.sendall(b"PING\n")
    assert sock.recv(100) == b"echo: PING\n"
    sock.sendall(b"again\n")
    assert sock.recv(100) == b"echo: again\n"
    assert pf.error(6379) is None
    pf.close()


def test_a_port_nothing_listens_on_reports_on_its_error_channel(v1: client.CoreV1Api) -> None:
    pf = forward(v1, "6379,5432")
    closed = pf.socket(5432)
    closed.settimeout(5)
    assert closed.recv(10) == b""  # the stream ends...
    message = pf.error(5432)  # ...with the kubelet's words on the error channel
    assert message.startswith("error forwarding port 5432 to pod redis-0, uid ")
    assert message.endswith("connection refused")
    pf.close()


def _raw(server: SimServer, path: str, protocols: list[str]) -> websocket.WebSocket:
    ws = websocket.WebSocket(sslopt={"cert_reqs": ssl.CERT_NONE})
    ws.connect(
        server.url.replace("https", "wss") + path,
        header=[f"Authorization: Bearer {server.admin_token}"],
        subprotocols=protocols,
    )
    return ws


def test_the_kubelet_frames_come_first_and_only_v4_is_spoken(server: SimServer) -> None:
    path = "/api/v1/namespaces/nc-platform/pods/redis-0/portforward?ports=6379"
    ws = _raw(server, path, ["v5.channel.k8s.io", "v4.channel.k8s.io"])
    assert ws.getsubprotocol() == "v4.channel.k8s.io"
    first = {ws.recv() for _ in range(2)}
    assert first == {bytes([0, 0xEB, 0x18]), bytes([1, 0xEB, 0x18])}  # 6379, little endian
    ws.send_binary(b"\x00hi\n")
    assert ws.recv() == b"\x00echo: hi\n"
    ws.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _raw(server, path, ["v5.channel.k8s.io"])
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("redis-0/portforward", 'query parameter \\"ports\\" is required'),
        ("redis-0/portforward?ports=http", "unable to parse"),
        ("done-0/portforward?ports=6379", "is not running"),
    ],
)
def test_bad_requests_are_refused_like_the_api_server(server: SimServer, path, message) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _raw(server, f"/api/v1/namespaces/nc-platform/pods/{path}", ["v4.channel.k8s.io"])
    assert refused.value.status_code == 400
    assert message in refused.value.resp_body.decode()
