"""Run the simulated API server on 127.0.0.1 in a background thread.

    server = SimServer(tls_dir=tmp)          # port=0 picks a free port
    server.start()
    server.call(server.store.create, NAMESPACES, {"metadata": {"name": "nc-a"}})
    server.write_kubeconfig(tmp / "kubeconfig")
    ...
    server.stop()

(or `with SimServer(...) as server:`). The asyncio loop, the `Store`, the `Auth` table and the
`ApiServer` knobs all belong to the background thread: from any other thread, touch them only
through `call(fn, *args)`, which runs `fn` in the loop thread (awaiting it if it is a
coroutine function) and returns its result or raises its exception. Before `start()` there is
no loop thread yet, and setting them up directly is fine.

Long-running work in the loop (controllers) is started with `spawn(coro_fn, *args)`; such
tasks are cancelled by `stop()`, and a task that crashes is logged, not silently lost.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from ncconsole.sim.apiserver.auth import Auth
from ncconsole.sim.apiserver.resources import NAMESPACES, REGISTRY, Registry
from ncconsole.sim.apiserver.routes import ApiServer, Faults
from ncconsole.sim.apiserver.store import Store
from ncconsole.sim.apiserver.tls import Tls

T = TypeVar("T")
log = logging.getLogger(__name__)
# Every real cluster has these; kubectl's default context namespace is `default`.
BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class SimServer:
    """The HTTPS Kubernetes API of the simulator, served from its own thread.

    On start the store gets the namespaces every cluster has (BUILTIN_NAMESPACES) unless
    they exist already.

    Attributes once started: `store`, `auth`, `api` (the ApiServer: `faults`, `exec_handler`,
    `logs.source`), `tls`, `port`, `url`, `admin_token` (the token of user `admin`)."""

    def __init__(
        self,
        *,
        port: int = 0,
        tls_dir: Path | None = None,
        store: Store | None = None,
        admin_user: str = "admin",
        admin_token: str | None = None,
        registry: Registry = REGISTRY,
    ) -> None:
        self._requested_port = port
        self._tmp: tempfile.TemporaryDirectory | None = None
        if tls_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ncconsole-sim-")
            tls_dir = Path(self._tmp.name)
        self.tls = Tls(Path(tls_dir))
        self.store = store or Store()
        self.auth = Auth()
        self.admin_user = admin_user
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.auth.add_user(admin_user, self.admin_token)
        self.api = ApiServer(self.store, self.auth, registry=registry, faults=Faults())
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("SimServer is not started")
        return self._loop

    def start(self) -> SimServer:
        """Start the loop thread and the HTTPS listener; returns once it accepts requests."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as err:  # reported to start()'s caller
                failure.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._cancel_tasks())
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="ncconsole-sim-api", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    async def _serve(self) -> None:
        for name in BUILTIN_NAMESPACES:
            if self.store.try_get(NAMESPACES, None, name) is None:
                self.store.create(NAMESPACES, {"metadata": {"name": name}})
        self._runner = web.AppRunner(
            self.api.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        ssl_ctx = self.tls.server_context()
        site = web.TCPSite(
            self._runner,
            "127.0.0.1",
            self._requested_port,
            ssl_context=ssl_ctx,
        )
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.api.server_address = f"127.0.0.1:{self.port}"

    async def _shutdown(self) -> None:
        self.store.close_all_watches()
        await asyncio.sleep(0)  # let the watch handlers see it and finish their streams
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def listening(self) -> bool:
        return self.running and self._runner is not None

    def stop_listening(self) -> None:
        """The API goes away (open watches and connections end, new ones are refused) while
        the loop, the store and spawned tasks keep running - an apiserver outage."""
        if self.listening:
            self.call(self._shutdown)

    def start_listening(self) -> None:
        """Answer again, on the same port, after stop_listening()."""
        if not self.listening:
            self._requested_port = self.port
            self.call(self._serve)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` in the loop thread; return its (awaited) result."""

        async def invoke() -> Any:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return asyncio.run_coroutine_threadsafe(invoke(), self.loop).result(timeout)

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run `fn(*args)` as a background task in the loop thread until it ends or `stop()`."""

        def start() -> None:
            task = self.loop.create_task(fn(*args), name=getattr(fn, "__qualname__", None))
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

        self.loop.call_soon_threadsafe(start)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task %s crashed", task.get_name(), exc_info=task.exception())

    def kubeconfig(self, *, user: str | None = None, token: str | None = None) -> dict:
        """A kubeconfig document for this server (CA inlined) and the given token."""
        user = user or self.admin_user
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "ncconsole-sim",
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": self.tls.ca_data_b64,
                    },
                }
            ],
            "users": [{"name": user, "user": {"token": token or self.admin_token}}],
            "contexts": [
                {
                    "name": "ncconsole-sim",
                    "context": {"cluster": "ncconsole-sim", "user": user, "namespace": "default"},
                }
            ],
            "current-context": "ncconsole-sim",
        }

    def write_kubeconfig(
        self, path: Path, *, user: str | None = None, token: str | None = None
    ) -> Path:
        """Write the kubeconfig atomically (temp file + rename, mode 0600): a reader sees
        either no file or the whole file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.kubeconfig(user=user, token=token), fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path

    def stop(self) -> None:
        """Close the listener, end open streams and the loop thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
