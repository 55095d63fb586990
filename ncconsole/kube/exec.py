"""Run a command in a pod (`kubectl exec`) through kubernetes.stream, streaming its output.

The exit code comes from the Status the API server sends on channel 3 when the command ends:
Success is 0, Failure/NonZeroExitCode carries the code in `details.causes`. A command that
outlives its timeout is abandoned (the WebSocket is closed) and reported as timed out.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL
from websocket import WebSocketException

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.views import parse_pod

NEXTCLOUD_APP_SELECTOR = "app.kubernetes.io/name=nextcloud"
# Chart components that are not the Nextcloud app itself (metrics exporter, cron pods).
_OTHER_COMPONENTS = {"metrics", "cronjob", "cron"}
Output = Callable[[str], None]


# Output handed to a callback is not kept beyond this (per stream): a command printing
# gigabytes must not fill the console's memory. Enough for a first line and an audit message.
KEPT_WHEN_STREAMED = 64 * 1024


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None  # None when the command timed out or the status was unreadable
    # All of the output, or for a stream given a callback its first KEPT_WHEN_STREAMED chars.
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    # The server's reason when the command could not run at all (a Failure Status without an
    # exit code, e.g. "error executing command in container: ..." from the kubelet).
    failure: str = ""


def pick_ready_pod(
    conn: KubeConnection, namespace: str, container: str, selector: str = NEXTCLOUD_APP_SELECTOR
) -> tuple[str | None, str]:
    """(name of a Ready pod with `container`, "") or (None, why there is none)."""
    items = conn.get_json(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector})
    pods = []
    for obj in items.get("items") or ():
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if labels.get("app.kubernetes.io/component") in _OTHER_COMPONENTS:
            continue
        names = [str(c.get("name")) for c in (obj.get("spec") or {}).get("containers") or ()]
        pods.append((parse_pod(obj, container), names))
    ready = [
        (view, names)
        for view, names in sorted(pods, key=lambda p: p[0].name)
        if view.ready and view.phase == "Running" and not view.deleting
    ]
    for view, names in ready:
        if container in names:
            return view.name, ""
    if not pods:
        return None, f"no Nextcloud pod in {namespace} ({selector})"
    if ready:  # Ready pods, but the container is named differently (settings occ.container)
        view, names = ready[0]
        return None, f"pod {view.name} has no container '{container}' (it has: {', '.join(names)})"
    states = ", ".join(
        f"{view.name} {view.reason or view.phase}{'' if view.ready else ' not Ready'}"
        for view, _ in pods[:5]
    )
    return None, f"no Ready Nextcloud pod in {namespace} ({states})"


class _Discarded:
    """A write-only sink standing in for the WebSocket client's read_all() buffer."""

    def write(self, data: object) -> None:
        pass

    def getvalue(self) -> str:
        return ""


def _failure(status_text: str) -> str:
    """The message of a Failure Status that carries no exit code ("" otherwise)."""
    try:
        status = json.loads(status_text) if status_text else {}
    except ValueError:
        return ""
    if status.get("status") != "Failure" or _exit_code(status_text) is not None:
        return ""
    return str(status.get("message") or status.get("reason") or "")


def _exit_code(status_text: str) -> int | None:
    try:
        status = json.loads(status_text) if status_text else {}
    except ValueError:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or ():
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message"))
            except (TypeError, ValueError):
                return None
    return None


def handshake_error(err: ApiException, pod: str) -> Exception:
    """The client reports a refused WebSocket upgrade as status 0 with the HTTP answer inside."""
    text = str(err.reason or err)
    match = re.search(r"Handshake status (\d+)", text)
    if not match:
        return ApiUnreachable(f"exec in {pod} failed: {text.splitlines()[0] if text else err}")
    # The reason reads "Handshake status 400 Bad Request -+-+- {'content-type': ...} -+-+-
    # {"kind":"Status",...}": the Status body is the JSON object after the headers' dict.
    unescaped = text.replace('\\"', '"')
    start = unescaped.find('{"')
    body = unescaped[start : unescaped.rfind("}") + 1] if start >= 0 else ""
    message = ""
    try:
        message = json.loads(body).get("message", "") if body else ""
    except (ValueError, AttributeError):
        message = ""
    return ApiStatusError(int(match.group(1)), "exec refused", message)


def exec_in_pod(
    conn: KubeConnection,
    namespace: str,
    pod: str,
    container: str,
    argv: list[str],
    *,
    timeout: float,
    on_stdout: Output | None = None,
    on_stderr: Output | None = None,
    should_stop: Callable[[], bool] | None = None,
    stdin: str | None = None,
) -> ExecResult:
    """Run `argv` (no shell is added) and stream its output to the callbacks as it comes.
    `stdin` is written to the command's standard input: how a secret reaches a command
    without appearing in its argv (which the API server logs with the exec request)."""
    # stream() swaps the ApiClient's request method while it opens the WebSocket: on the
    # shared client, requests from other threads would go out as WebSocket upgrades.
    api = k8s_client.ApiClient(conn.api.configuration)
    try:
        return _exec(
            api, namespace, pod, container, argv, timeout, on_stdout, on_stderr, should_stop,
            stdin,
        )  # fmt: skip
    finally:
        api.close()


def _exec(
    api: k8s_client.ApiClient,
    namespace: str,
    pod: str,
    container: str,
    argv: list[str],
    timeout: float,
    on_stdout: Output | None,
    on_stderr: Output | None,
    should_stop: Callable[[], bool] | None,
    stdin: str | None = None,
) -> ExecResult:
    core = k8s_client.CoreV1Api(api)
    started = time.monotonic()
    try:
        ws: Any = stream(
            core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            command=argv,
            container=container,
            stdout=True,
            stderr=True,
            stdin=stdin is not None,
            tty=False,
            _preload_content=False,
            _request_timeout=(5.0, timeout),
        )
    except ApiException as err:
        raise handshake_error(err, pod) from None
    except OSError as err:
        raise ApiUnreachable(f"exec in {pod} failed: {err}") from None
    # The client also copies all output into a buffer for read_all(), which we never call: it
    # would grow with the output. stream() has no way to pass its capture_all=False.
    ws._all = _Discarded()
    if stdin is not None:
        ws.write_stdin(stdin)
    out: list[str] = []
    err_out: list[str] = []
    kept = {id(out): 0, id(err_out): 0}

    def take(chunks: list[str], text: str, callback: Output | None) -> None:
        if callback is None:
            chunks.append(text)
            return
        room = KEPT_WHEN_STREAMED - kept[id(chunks)]
        if room > 0:
            chunks.append(text[:room])
            kept[id(chunks)] += min(room, len(text))
        callback(text)

    timed_out = False
    status = ""
    try:
        while ws.is_open():
            if time.monotonic() - started > timeout or (should_stop and should_stop()):
                timed_out = True
                break
            ws.update(timeout=0.2)
            for chunks, read, callback in (
                (out, ws.read_stdout, on_stdout),
                (err_out, ws.read_stderr, on_stderr),
            ):
                text = read(timeout=0) if ws.peek_channel(1 if chunks is out else 2) else ""
                if text:
                    take(chunks, text, callback)
        # Frames that arrived with the close.
        for chunks, channel, callback in ((out, 1, on_stdout), (err_out, 2, on_stderr)):
            rest = ws.read_channel(channel) if ws.peek_channel(channel) else ""
            if rest:
                take(chunks, rest, callback)
        status = "" if timed_out else ws.read_channel(ERROR_CHANNEL)
    except (WebSocketException, OSError):
        pass  # the connection was lost (API server or node gone): there is no exit code
    finally:
        ws.close()
    return ExecResult(
        exit_code=None if timed_out else _exit_code(status),
        stdout="".join(out),
        stderr="".join(err_out),
        duration=time.monotonic() - started,
        timed_out=timed_out,
        failure="" if timed_out else _failure(status),
    )
