"""Key latency of the console while things go wrong: the figures the fault tests used to
assert (and that failed at random on a loaded 2-core machine), measured here instead.

Scenarios, each against the built-in simulator with the console headless in this process:
- `outage`: the API server stops listening; j/k move the fleet table's cursor;
- `slow-api`: every API answer takes 1.5 s; j/k on the fleet table;
- `occ-stream`: occ streams output into the occ screen; x/backspace edit its input.

Per scenario: median, p95 and max milliseconds from a key press until its effect is on the
widget, with the machine's load average. Targets: median < 100 ms, max < 300 ms.

    uv run python benchmarks/key_latency.py [--presses 20] [--scenario NAME ...]

The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import load_average, percentile

from ncconsole.fleet.state import FleetState
from ncconsole.kube.watch import WatchTiming
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.exec_ws import ExecRequest
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.occ import OccScreen
from ncconsole.tui.widgets.fleet_table import FleetTable

SCENARIOS = ("outage", "slow-api", "occ-stream")
TENANTS = [{"name": f"t{i}", "wave": i % 2, "replicas": 1} for i in range(4)]
FAST = WatchTiming(
    watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.3,
    heartbeat_seconds=0.3, heartbeat_timeout=0.5,
)  # fmt: skip
LINE = "Scanning file   /alice/files/Photos/2024/IMG_{:06d}.jpg\n"


class StreamingOcc:
    """occ `files:scan` streams a line every 2 ms until `stop` is set; the rest goes on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.stop = False

    async def __call__(self, req: ExecRequest) -> int:
        if "files:scan" not in " ".join(req.command):
            return await self.inner(req)
        n = 0
        while not self.stop:
            await req.write_stdout(LINE.format(n))
            n += 1
            await asyncio.sleep(0.002)
        return 0


async def wait_for(pilot: Any, condition: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("condition not met in time")
        await pilot.pause(0.02)


async def latencies(
    pilot: Any, widget: Any, attribute: str, keys: tuple[str, str], presses: int
) -> list[float]:
    """Seconds from each key press until it changed `widget.attribute`."""
    changed: list[float] = []
    pilot.app.watch(widget, attribute, lambda *_: changed.append(time.perf_counter()), init=False)
    out = []
    for i in range(presses):
        seen, started = len(changed), time.perf_counter()
        await pilot.press(keys[i % 2])
        await wait_for(pilot, lambda seen=seen: len(changed) > seen)
        out.append(changed[seen] - started)
        await pilot.pause(0.05)
    return out


def settings_for(sim: Simulator) -> Settings:
    return Settings(
        repo=sim.repo, kubeconfig=sim.kubeconfig,
        web={"connect_to": sim.web_address, "ca_file": sim.ca_file, "timeout": 2.0},
        s3={"endpoint": sim.s3_endpoint, "timeout": 2.0},
    )  # fmt: skip


async def measure(sim: Simulator, scenario: str, presses: int) -> list[float]:
    settings = settings_for(sim)
    app = make_app(FleetState(settings, timing=FAST, probes=False, repo_poll=0.3), settings)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: len(table.row_keys) == len(TENANTS) + 2)
        if scenario == "outage":
            sim.stop_api()
            try:
                await wait_for(pilot, lambda: not app.snapshot.api_reachable)
                return await latencies(pilot, table, "cursor_coordinate", ("j", "k"), presses)
            finally:
                sim.start_api()
        if scenario == "slow-api":
            sim.set_api_faults(latency=1.5)
            try:
                await wait_for(pilot, lambda: not app.snapshot.api_reachable)
                return await latencies(pilot, table, "cursor_coordinate", ("j", "k"), presses)
            finally:
                sim.set_api_faults(latency=0.0)
        api = sim.server.api  # type: ignore[union-attr]
        streaming = StreamingOcc(api.exec_handler)
        api.exec_handler = streaming
        try:
            app.action_occ(tenant="t1")
            await wait_for(pilot, lambda: isinstance(app.screen, OccScreen))
            screen = app.screen
            await pilot.press(*"files:scan", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            output = screen.query_one("#occ-output")
            await wait_for(pilot, lambda: len(output.lines) > 100)
            field = screen.query_one("#occ-input")
            field.value = ""
            return await latencies(pilot, field, "value", ("x", "backspace"), presses)
        finally:
            streaming.stop = True
            api.exec_handler = streaming.inner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    args = parser.parse_args(argv)
    chosen = args.scenario or list(SCENARIOS)
    results: dict[str, Any] = {"presses": args.presses}
    with tempfile.TemporaryDirectory(prefix="key-latency-") as tmp:
        spec = Scenario.model_validate({"tenants": TENANTS})
        with Simulator(spec, workdir=Path(tmp) / "sim") as sim:
            print(f"ncconsole key latency — {args.presses} presses per scenario")
            print(f"{'scenario':<12} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'load':>6}")
            for scenario in chosen:
                values = [s * 1000 for s in asyncio.run(measure(sim, scenario, args.presses))]
                figures = {
                    "median_ms": round(statistics.median(values), 1),
                    "p95_ms": round(percentile(values, 95) or 0.0, 1),
                    "max_ms": round(max(values), 1),
                    "load": load_average(),
                }
                results[scenario] = figures
                print(
                    f"{scenario:<12} {figures['median_ms']:>10} {figures['p95_ms']:>8} "
                    f"{figures['max_ms']:>8} {figures['load']:>6}"
                )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
