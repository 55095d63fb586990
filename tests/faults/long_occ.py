"""Long-running occ commands for the fault suite, around the simulator's exec handler.

The simulated occ answers at once. Here `occ files:scan` (on a real Nextcloud the command that
runs for minutes and prints as it goes) streams one line per file until the pod is deleted -
then it ends as a process killed with its container does, exit 137 - or, with `--all`, prints
BIG_OUTPUT bytes as fast as it can
(a thirtieth, 6,400 lines, with `--shallow`); with `--until-released` it streams a line at a
time until the test sets `released`, then AFTER_RELEASE lines more. Every other command
reaches the simulator's own occ.
"""

from __future__ import annotations

import asyncio
import threading

from ncconsole.sim.apiserver.exec_ws import ExecHandler, ExecRequest
from ncconsole.sim.apiserver.resources import PODS
from ncconsole.sim.simulator import Simulator

BIG_OUTPUT = 10 * 1024 * 1024
AFTER_RELEASE = 6000  # more than the occ screen keeps, so its scrollback limit shows
LINE = "Scanning file   /alice/files/Photos/2024/IMG_{:06d}.jpg\n"


class LongOcc:
    """`occ files:scan` runs long (see the module docstring); the rest goes to `inner`."""

    def __init__(self, sim: Simulator, inner: ExecHandler) -> None:
        self.sim = sim
        self.inner = inner
        self.started: list[str] = []  # namespaces where a scan began (read from any thread)
        self.released = threading.Event()
        self.last_line = -1  # the number of the last line a --until-released scan printed

    @classmethod
    def install(cls, sim: Simulator) -> LongOcc:
        """Put the long commands in front of the simulator's exec handler."""
        api = sim.server.api  # type: ignore[union-attr]
        handler = cls(sim, api.exec_handler)
        api.exec_handler = handler
        return handler

    async def __call__(self, req: ExecRequest) -> int:
        command = " ".join(req.command)
        if "files:scan" not in command:
            return await self.inner(req)
        self.started.append(req.namespace)
        try:
            if "--until-released" in command:
                return await self._stream_until_released(req)
            if "--all" in command:
                return await self._print(
                    req, BIG_OUTPUT // 30 if "--shallow" in command else BIG_OUTPUT
                )
            return await self._until_pod_deleted(req)
        except (ConnectionError, RuntimeError):
            return 130  # the client went away (stopped or interrupted): nobody reads on

    async def _print(self, req: ExecRequest, size: int) -> int:
        sent, n = 0, 0
        while sent < size:
            chunk = "".join(LINE.format(n + i) for i in range(1000))
            await req.write_stdout(chunk)
            sent, n = sent + len(chunk), n + 1000
        return 0

    async def _stream_until_released(self, req: ExecRequest) -> int:
        n = 0
        while not self.released.is_set():
            await req.write_stdout(LINE.format(n))
            n += 1
            await asyncio.sleep(0.002)
        for _ in range(AFTER_RELEASE // 1000):
            await req.write_stdout("".join(LINE.format(n + i) for i in range(1000)))
            n += 1000
        self.last_line = n - 1
        return 0

    async def _until_pod_deleted(self, req: ExecRequest) -> int:
        name, store = req.pod["metadata"]["name"], self.sim.store
        for n in range(400):
            if store.try_get(PODS, req.namespace, name) is None:
                await req.write_stderr("Terminated\n")
                return 137  # SIGKILL with the container
            await req.write_stdout(LINE.format(n))
            await asyncio.sleep(0.05)
        return 0
