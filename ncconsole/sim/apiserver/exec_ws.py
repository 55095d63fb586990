"""Pod exec over WebSocket, speaking Kubernetes' channel protocol (v5/v4.channel.k8s.io).

Every binary frame starts with one channel byte: 0 stdin, 1 stdout, 2 stderr, 3 status
(error), 4 resize; v5 adds 255, "close this channel" (the client's way to end stdin). When the
command ends the server sends a channel-3 Status - Success, or Failure/NonZeroExitCode with
the exit code in `details.causes[0]` - and then a close frame; clients wait for both.

What the command does is up to an `ExecHandler`, an async function that gets an
`ExecRequest` and returns the exit code. It streams output with `await req.write_stdout(b)` /
`write_stderr(b)` (sent as it is written, in frames of at most 32 KiB) and may read stdin with
`await req.read_stdin()` (None at end of input).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ncconsole.sim.apiserver.errors import ApiError

log = logging.getLogger(__name__)

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
FRAME = 32 * 1024


@dataclass
class ExecRequest:
    """One `kubectl exec`: which pod and container, the command, and its I/O streams."""

    namespace: str
    pod: dict[str, Any]
    container: str
    command: list[str]
    tty: bool = False
    _send: Callable[[int, bytes], Awaitable[None]] | None = None
    _stdin: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    _want: tuple[bool, bool] = (True, True)  # stdout, stderr requested by the client

    async def write_stdout(self, data: bytes | str) -> None:
        if self._want[0]:
            await self._write(STDOUT, data)

    async def write_stderr(self, data: bytes | str) -> None:
        if self._want[1]:
            await self._write(STDERR, data)

    async def _write(self, channel: int, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        for i in range(0, len(raw), FRAME):
            if self._send is not None:
                await self._send(channel, raw[i : i + FRAME])

    async def read_stdin(self) -> bytes | None:
        """The next chunk of stdin, or None once the client closed it (or sent none)."""
        return await self._stdin.get()


ExecHandler = Callable[[ExecRequest], Awaitable[int]]


async def command_not_found(req: ExecRequest) -> int:
    """The default handler: every executable is missing, as in an empty container."""
    exe = req.command[0] if req.command else ""
    await req.write_stderr(
        f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{exe}": '
        "executable file not found in $PATH: unknown\n"
    )
    return 127


def resolve_container(pod: dict[str, Any], requested: str | None) -> str:
    """The container to use, or the apiserver's 400 when it is missing or ambiguous."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    init_names = [c.get("name", "") for c in spec.get("initContainers") or []]
    if requested:
        if requested not in names + init_names:
            raise ApiError.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return names[0]
    if not names:
        raise ApiError.bad_request(f"pod {name} does not have a container to exec into")
    raise ApiError.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    )


def exit_status(code: int, command: list[str]) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(command)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    return default if value is None else value.lower() in ("1", "true")


async def serve_exec(
    request: web.Request, namespace: str, pod: dict[str, Any], handler: ExecHandler
) -> web.StreamResponse:
    """Validate the request, upgrade to WebSocket, run `handler`, send status, close."""
    container = resolve_container(pod, request.query.get("container"))
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise ApiError.bad_request(
            f"cannot exec into a container in a completed pod; current phase is {phase}"
        )
    command = request.query.getall("command", [])
    if not command:
        raise ApiError.bad_request("you must specify at least 1 command")
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    chosen = next((p for p in PROTOCOLS if p in offered), None)
    if request.headers.get("Upgrade", "").lower() != "websocket" or chosen is None:
        raise ApiError.bad_request(
            "Upgrade request required: use a WebSocket with subprotocol " + " or ".join(PROTOCOLS)
        )
    ws = web.WebSocketResponse(protocols=(chosen,), autoping=True, max_msg_size=0)
    await ws.prepare(request)

    async def send(channel: int, data: bytes) -> None:
        await ws.send_bytes(bytes([channel]) + data)

    req = ExecRequest(namespace, pod, container, command, _flag(request, "tty", False), send)
    req._want = (_flag(request, "stdout", True), _flag(request, "stderr", True))
    if not _flag(request, "stdin", False):
        req._stdin.put_nowait(None)
    reader = asyncio.create_task(_read_client(ws, req, chosen))
    try:
        try:
            code = await handler(req)
            status = exit_status(code, command)
        except Exception as err:  # a broken handler must still end the stream cleanly
            log.exception("exec handler failed for %s/%s", namespace, pod["metadata"]["name"])
            status = {
                "metadata": {},
                "status": "Failure",
                "reason": "InternalError",
                "message": f"error executing command: {err}",
            }
        if not ws.closed:
            with contextlib.suppress(ConnectionResetError):  # the client may be gone already
                await send(STATUS, json.dumps(status).encode())
    finally:
        reader.cancel()
        await ws.close()
    return ws


async def _read_client(ws: web.WebSocketResponse, req: ExecRequest, protocol: str) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.BINARY and msg.data:
            channel, payload = msg.data[0], msg.data[1:]
        elif msg.type == WSMsgType.TEXT and msg.data:
            channel, payload = ord(msg.data[0]), msg.data[1:].encode()
        else:
            continue
        if channel == STDIN and payload:
            req._stdin.put_nowait(payload)
        elif channel == CLOSE and protocol.startswith("v5") and payload[:1] == bytes([STDIN]):
            req._stdin.put_nowait(None)
    req._stdin.put_nowait(None)
