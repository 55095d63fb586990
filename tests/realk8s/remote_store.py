"""The simulator's controllers against a real apiserver: the `Store` interface over HTTP.

The simulator's controllers (Argo CD's sync and health, External Secrets, ...) use a narrow
part of the in-memory `Store`: get / try_get / create / update(read-modify-write) / delete /
list / list_page and `subscribe(kind, callback)`. `RemoteStore` offers exactly that against any
Kubernetes API, so the same controller code runs on the real control plane, where
kube-controller-manager makes the ReplicaSets and Pods and kwok runs them. Calls block (the
controllers run on their own event loop thread here, as on the simulator's); watch events reach
`subscribe` callbacks on that loop, in order, as the store's do.

`ControllerThread` is that loop thread: it starts controllers on it and stops them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import ssl
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.resources import ResourceType
from ncconsole.sim.apiserver.watchers import WatchEvent

Obj = dict[str, Any]
CONFLICT_RETRIES = 8


@dataclass(frozen=True)
class _Entry:
    obj: Obj


@dataclass(frozen=True)
class _Page:
    entries: list[_Entry]


def _path(rt: ResourceType, namespace: str | None, name: str = "") -> str:
    base = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    if rt.namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{rt.plural}"
    return f"{base}/{name}" if name else base


class RemoteStore:
    """The controllers' `Store` interface over the real API (see the module docstring)."""

    def __init__(self, server: str, ca_file: str, token: str) -> None:
        self._server, self._ca_file, self._token = server, ca_file, token
        self._http = self._client()
        self._lock = threading.Lock()

    def _client(self, timeout: float | None = 30) -> httpx.Client:
        return httpx.Client(
            base_url=self._server,
            verify=ssl.create_default_context(cafile=self._ca_file),
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Obj:
        with self._lock:
            answer = self._http.request(
                method,
                path,
                params=params or None,
                content=None if body is None else json.dumps(body),
                headers={"Content-Type": "application/json"} if body is not None else None,
            )
        data = answer.json() if answer.content else {}
        if answer.status_code >= 400:
            raise ApiError(
                answer.status_code,
                str(data.get("reason") or ""),
                str(data.get("message") or ""),
                data.get("details"),
            )
        return data

    # -- the Store interface ---------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self._call("GET", _path(rt, namespace, name))
        return obj

    def try_get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        try:
            return self.get(rt, namespace, name)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    def create(self, rt: ResourceType, obj: Obj, *, dry_run: bool = False) -> Obj:
        body = {**copy.deepcopy(obj), "apiVersion": rt.api_version, "kind": rt.kind}
        namespace = (body.get("metadata") or {}).get("namespace")
        params = {"dryRun": "All"} if dry_run else {}
        return self._call("POST", _path(rt, namespace), body, **params)

    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        mutate: Callable[[Obj], Obj | None],
        *,
        dry_run: bool = False,
    ) -> Obj:
        """Read, mutate, write back with the read resourceVersion; a 409 (someone else wrote
        in between, e.g. kube-controller-manager on a Deployment) reads again."""
        for _ in range(CONFLICT_RETRIES):
            current = self.get(rt, namespace, name)
            working = copy.deepcopy(current)
            result = mutate(working)
            new = working if result is None else result
            if new == current:
                return current
            try:
                params = {"dryRun": "All"} if dry_run else {}
                stored = self._call("PUT", _path(rt, namespace, name), new, **params)
                if rt.has_status_subresource and new.get("status") != stored.get("status"):
                    # The in-memory store writes status with the rest; a real apiserver keeps
                    # status to the /status subresource when the kind has one.
                    body = {**stored, "status": new.get("status")}
                    stored = self._call("PUT", _path(rt, namespace, name) + "/status", body)
                return stored
            except ApiError as err:
                if err.code != 409:
                    raise
        raise ApiError.conflict(rt.plural, rt.group, name)

    def delete(self, rt: ResourceType, namespace: str | None, name: str, **_: Any) -> Obj:
        return self._call("DELETE", _path(rt, namespace, name))

    def list(self, rt: ResourceType, namespace: str | None = None, *_: Any, **__: Any) -> list[Obj]:
        data = self._call("GET", _path(rt, namespace))
        # Typed lists carry no apiVersion/kind per item; the controllers read `kind`.
        return [{**item, "apiVersion": rt.api_version, "kind": rt.kind} for item in data["items"]]

    def list_page(
        self, rt: ResourceType, namespace: str | None = None, *_: Any, **__: Any
    ) -> _Page:
        return _Page([_Entry(obj) for obj in self.list(rt, namespace)])

    def subscribe(
        self, rt: ResourceType, callback: Callable[[WatchEvent], None]
    ) -> Callable[[], None]:
        """`callback(event)` on the calling event loop for every later change of `rt`."""
        loop = asyncio.get_running_loop()
        stopping = threading.Event()
        listed = self._call("GET", _path(rt, None))
        start = listed["metadata"]["resourceVersion"]
        thread = threading.Thread(
            target=self._follow, args=(rt, start, loop, callback, stopping), daemon=True,
            name=f"remote-watch-{rt.plural}",
        )  # fmt: skip
        thread.start()
        return stopping.set

    def _follow(
        self,
        rt: ResourceType,
        version: str,
        loop: asyncio.AbstractEventLoop,
        callback: Callable[[WatchEvent], None],
        stopping: threading.Event,
    ) -> None:
        with self._client(timeout=None) as http:
            while not stopping.is_set():
                params = {"watch": "true", "resourceVersion": version, "timeoutSeconds": "5"}
                try:
                    with http.stream("GET", _path(rt, None), params=params) as stream:
                        for line in stream.iter_lines():
                            if stopping.is_set():
                                return
                            if not line:
                                continue
                            event = json.loads(line)
                            obj = event.get("object") or {}
                            if event.get("type") == "ERROR":  # 410: start from now
                                version = self._call("GET", _path(rt, None))["metadata"][
                                    "resourceVersion"
                                ]
                                break
                            version = obj["metadata"]["resourceVersion"]
                            seen = WatchEvent(event["type"], rt, obj, int(version))
                            if not loop.is_closed():
                                loop.call_soon_threadsafe(callback, seen)
                except (httpx.HTTPError, ValueError):
                    stopping.wait(0.5)


class ControllerThread:
    """An event loop on its own thread for controllers built on a `RemoteStore`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, daemon=True, name="controllers"
        )

    def start(self) -> ControllerThread:
        self._thread.start()
        return self

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30) -> Any:
        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
