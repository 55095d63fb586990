"""`kubectl port-forward svc/NAME`: a local socket on 127.0.0.1 whose connections reach a Ready
pod behind a Service, through the API server's pods/portforward (the official client's
kubernetes.stream.portforward, WebSocket channels).

The WebSocket protocol carries one connection per stream, so every connection accepted on the
local socket opens its own port-forward stream; a relay thread per connection copies bytes
both ways. The local socket lives until `close()` (use it as a context manager).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.exec import handshake_error

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class PortForwardError(ApiUnreachable):
    """The Service, its pods or its port cannot be forwarded to (one line, names the Service)."""


@dataclass(frozen=True)
class ForwardTarget:
    namespace: str
    pod: str
    port: int  # the container port
    service: str

    @property
    def label(self) -> str:
        return f"port-forward to {self.namespace}/{self.service}"


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )


def resolve_service(
    conn: KubeConnection, namespace: str, service: str, port: int | str
) -> ForwardTarget:
    """The Ready pod and container port that `service`'s `port` (number or name) leads to, the
    way kubectl resolves `port-forward svc/...`."""
    where = f"Service {namespace}/{service}"
    try:
        svc = conn.get_json(f"/api/v1/namespaces/{namespace}/services/{service}")
    except ApiStatusError as err:
        if err.status == 404:
            raise PortForwardError(f"{where} not found") from None
        raise PortForwardError(f"{where}: {err}") from None
    spec = svc.get("spec") or {}
    ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
    entry = next((p for p in ports if port in (p.get("port"), p.get("name"))), None)
    if entry is None:
        known = ", ".join(str(p.get("name") or p.get("port")) for p in ports) or "none"
        raise PortForwardError(f"{where} has no port {port} (ports: {known})")
    selector = spec.get("selector") or {}
    if not selector:
        raise PortForwardError(f"{where} has no selector: nothing to forward to")
    label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = conn.get_json(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": label_selector})
    candidates = sorted(
        (p for p in pods.get("items") or () if isinstance(p, dict) and _ready(p)),
        key=lambda p: (p.get("metadata") or {}).get("name") or "",
    )
    if not candidates:
        raise PortForwardError(f"{where}: no Ready pod ({label_selector})")
    pod = candidates[0]
    target = entry.get("targetPort", entry.get("port"))
    if isinstance(target, str):
        numbers = [
            cp.get("containerPort")
            for c in (pod.get("spec") or {}).get("containers") or ()
            for cp in c.get("ports") or ()
            if cp.get("name") == target
        ]
        if not numbers:
            raise PortForwardError(f"{where}: pod has no container port named '{target}'")
        target = numbers[0]
    return ForwardTarget(namespace, str(pod["metadata"]["name"]), int(target), service)


class LocalPortForward:
    """A listening socket on 127.0.0.1 forwarding each connection to `target` in the cluster.

    `last_error` holds the latest failure the API server or the pod reported (e.g. "error
    forwarding port 6432 to pod ...: connection refused"), for a reading's reason."""

    def __init__(self, conn: KubeConnection, target: ForwardTarget, *, timeout: float = 5.0):
        self.target = target
        self.timeout = timeout
        self.last_error = ""
        # stream's portforward swaps the ApiClient's request method while it opens the
        # WebSocket: a client of our own, opened one stream at a time.
        self._api = k8s_client.ApiClient(conn.api.configuration)
        self._core = k8s_client.CoreV1Api(self._api)
        self._open_lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closed = threading.Event()
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"port-forward {target.label}", daemon=True
        )
        self._accepter.start()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def __enter__(self) -> LocalPortForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._api.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                local, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(local,), name="port-forward relay", daemon=True
            ).start()

    def _open_stream(self) -> Any:
        t = self.target
        with self._open_lock:
            try:
                return portforward(
                    self._core.connect_get_namespaced_pod_portforward,
                    t.pod,
                    t.namespace,
                    ports=str(t.port),
                    _request_timeout=self.timeout,
                )
            except ApiException as err:
                raise handshake_error(err, t.pod) from None
            except OSError as err:
                raise ApiUnreachable(f"{t.label}: {err}") from None

    def _serve(self, local: socket.socket) -> None:
        try:
            forward = self._open_stream()
        except (ApiStatusError, ApiUnreachable) as err:
            self.last_error = f"{self.target.label}: {err}"
            local.close()
            return
        remote = forward.socket(self.target.port)

        def note_error() -> None:
            # The client library sets the error before it ends the stream, so it is there
            # when the pod's side ends; note it before the local client sees the end.
            error = forward.error(self.target.port)
            if error:
                self.last_error = f"{self.target.label}: {error.strip()}"

        try:
            _relay(local, remote, self._closed, on_remote_end=note_error)
        finally:
            note_error()
            with contextlib.suppress(OSError):
                local.close()
            forward.close()


def _relay(a: socket.socket, b: Any, closed: threading.Event, on_remote_end: Any = None) -> None:
    """Copy bytes both ways between the local client `a` and the pod side `b` until either
    ends; half-closes are passed on. `on_remote_end` runs before the client sees b's end."""
    open_sides = {a: b, b: a}
    while open_sides and not closed.is_set():
        try:
            readable, _, _ = select.select(list(open_sides), [], [], 0.5)
        except (OSError, ValueError):
            return
        for source in readable:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            sink = open_sides.get(source)
            if sink is None:
                continue
            if data:
                try:
                    sink.sendall(data)
                except OSError:
                    return
            else:
                open_sides.pop(source, None)
                if source is not a and on_remote_end is not None:
                    on_remote_end()
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                if source is not a:
                    return  # the pod's side ended: nothing more will come back
