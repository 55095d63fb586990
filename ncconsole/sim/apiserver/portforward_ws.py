"""Pod port-forward over WebSocket, as the real API server (kubelet streaming) speaks it.

`GET|POST .../pods/NAME/portforward?ports=P[,Q]` upgrades to a WebSocket with subprotocol
`v4.channel.k8s.io` (or none); the real server offers no v5 for port-forward. Each port gets
two channels: data 2i and error 2i+1. The server first writes the port number (uint16,
little endian) on both, then relays the data channel to the pod's port and, when that
fails, writes "error forwarding port P to pod NAME, uid UID: ..." on the error channel and
ends. One WebSocket carries one connection per port.

Where a pod's port really goes is up to a `PortResolver`: `(namespace, pod, port)` ->
(host, port) of a real server on loopback, or None when nothing listens there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from ncconsole.sim.apiserver.errors import ApiError

PROTOCOL = "v4.channel.k8s.io"
CHUNK = 32 * 1024
PortResolver = Callable[[str, dict[str, Any], int], "tuple[str, int] | None"]


def nothing_listens(namespace: str, pod: dict[str, Any], port: int) -> tuple[str, int] | None:
    """The default resolver: no pod port has a server behind it."""
    return None


def _ports(request: web.Request) -> list[int]:
    values = request.query.getall("ports", [])
    if not values:
        raise ApiError.bad_request('query parameter "ports" is required')
    ports = []
    for value in values:
        for part in value.split(","):
            if not part.isdigit() or not 0 < int(part) < 65536:
                raise ApiError.bad_request(f'unable to parse "{value}" as a port')
            ports.append(int(part))
    return ports


async def serve_portforward(
    request: web.Request, namespace: str, pod: dict[str, Any], resolve: PortResolver
) -> web.StreamResponse:
    """Validate, upgrade, forward each requested port to where `resolve` says, then close."""
    name = pod["metadata"]["name"]
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise ApiError.bad_request(
            f"unable to upgrade connection: pod {name} is not running (phase {phase})"
        )
    ports = _ports(request)
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise ApiError.bad_request(f"Upgrade request required: use a WebSocket ({PROTOCOL})")
    if offered != [""] and PROTOCOL not in offered:
        raise ApiError.bad_request(
            f"unable to upgrade connection: none of the offered subprotocols is {PROTOCOL}"
        )
    ws = web.WebSocketResponse(
        protocols=(PROTOCOL,) if PROTOCOL in offered else (), autoping=True, max_msg_size=0
    )
    await ws.prepare(request)

    async def send(channel: int, data: bytes) -> None:
        if not ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await ws.send_bytes(bytes([channel]) + data)

    for index, port in enumerate(ports):
        number = port.to_bytes(2, "little")
        await send(2 * index, number)
        await send(2 * index + 1, number)
    uid = pod["metadata"].get("uid", "")
    # What the client writes on each data channel, until the pod side is connected and after.
    inbound: list[asyncio.Queue[bytes | None]] = [asyncio.Queue() for _ in ports]
    forwards = asyncio.gather(
        *(
            _forward(namespace, pod, uid, index, port, resolve, send, inbound[index])
            for index, port in enumerate(ports)
        )
    )
    reader = asyncio.create_task(_read_client(ws, inbound))
    try:
        await asyncio.wait([reader, forwards], return_when=asyncio.FIRST_COMPLETED)
    finally:
        reader.cancel()
        forwards.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forwards
        await ws.close()
    return ws


async def _forward(
    namespace: str,
    pod: dict[str, Any],
    uid: str,
    index: int,
    port: int,
    resolve: PortResolver,
    send: Callable[[int, bytes], Awaitable[None]],
    inbound: asyncio.Queue[bytes | None],
) -> None:
    """Connect one port to its real server and copy both ways until either side ends."""
    name = pod["metadata"]["name"]
    where = resolve(namespace, pod, port)
    try:
        if where is None:
            raise ConnectionRefusedError(111, "connect: connection refused")
        reader, writer = await asyncio.open_connection(*where)
    except OSError as err:
        await send(
            2 * index + 1,
            f"error forwarding port {port} to pod {name}, uid {uid}: failed to connect to "
            f"localhost:{port} inside the pod's network namespace: {err.strerror or err}".encode(),
        )
        return

    async def to_pod() -> None:
        while (data := await inbound.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    pump = asyncio.create_task(to_pod())
    try:
        while data := await reader.read(CHUNK):
            await send(2 * index, data)
    except OSError:
        pass
    finally:
        pump.cancel()
        writer.close()


async def _read_client(
    ws: web.WebSocketResponse, inbound: list[asyncio.Queue[bytes | None]]
) -> None:
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            continue
        index, is_error = divmod(msg.data[0], 2)
        if not is_error and index < len(inbound) and len(msg.data) > 1:
            inbound[index].put_nowait(bytes(msg.data[1:]))
    for queue in inbound:
        queue.put_nowait(None)
