"""The console side of the benchmark: FleetState + the Textual app (headless) in one process.

    NCCONSOLE_CONFIG=DIR/config.yaml python benchmarks/console_run.py --tenants N [--probes]
        --workdir DIR --sim-pid PID [--idle 60] [--churn-seconds 600] ...

Run as its own process by fleet.py (one per mode, so one run's heap never shows in the next's
RSS); prints one JSON line of ConsoleFigures. `run_console(...)` starts the app first (empty,
idle), then the live FleetState under it, and measures, in order: state complete -> full
paint, RSS after load, how fast keys are answered; with probes on, the first probe round and
then a steady window (CPU of this process, the age of every tenant's status.php and S3 data);
an idle window (CPU, API requests sent); a churn window (the driver in its own process
changes the fleet at `rate` changes/s; change -> row painted latencies; RSS during and after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coldstart import fleet_loaded
from measure import (
    CpuWindow,
    count_requests,
    load_average,
    percentile,
    process_cpu_seconds,
    rss_mb,
)
from screen_watch import (
    DeferredSource,
    PaintObserver,
    PublishedLog,
    churn_records,
    stage_latencies,
)

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.settings import Settings, load_settings
from ncconsole.tui.app import make_app

HERE = Path(__file__).resolve().parent


@dataclass
class ConsoleFigures:
    in_app_cold_start: float | None = None
    paint: float | None = None
    rss_load: float | None = None
    idle_cpu_pct: float | None = None
    idle_seconds: float = 0.0
    idle_requests: int = 0
    idle_requests_per_min: float | None = None
    idle_snapshots: int = 0
    sim_idle_cpu_pct: float | None = None
    churn_sent: int = 0
    churn_missing: int = 0
    churn_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_max_ms: float | None = None
    visible_changes: int = 0
    # (p50, p95) in ms from the change to: snapshot published, table updated (all changes).
    published_ms: tuple[float, float] | None = None
    table_ms: tuple[float, float] | None = None
    rss_churn: float | None = None
    rss_churn_max: float | None = None
    # RSS every ~10 % of the churn window (MB), to tell growth from a plateau.
    rss_churn_samples: list[float] = field(default_factory=list)
    # Probes on: the first round (every tenant answered once), then the steady window.
    probes: bool = False
    probe_first_round_s: float | None = None
    probe_cpu_pct: float | None = None
    probe_window_s: float = 0.0
    # Ages of each tenant's data in the steady window (pooled samples): p50, p90, p99, max.
    web_age_s: tuple[float, float, float, float] | None = None
    s3_age_s: tuple[float, float, float, float] | None = None
    probes_started_per_s: float | None = None
    kept_connections: int | None = None
    # Keys: ms from a key press to the app having handled it (cursor moved, filter shown).
    key_p50_ms: float | None = None
    key_max_ms: float | None = None
    key_slowest: str = ""  # which press was the slowest: "slash (press 31)"
    filter_ms: float | None = None
    load: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout:g} s")
        await asyncio.sleep(0.02)


async def run_console(
    settings: Settings,
    tenants: int,
    *,
    workdir: Path,
    sim_cpu: Any,
    idle_seconds: float,
    churn_seconds: float,
    rate: float,
    settle: float,
    probes: bool,
    focus_share: float = 0.0,
    probe_window: float = 60.0,
    size: tuple[int, int] = (200, 60),
) -> ConsoleFigures:
    figures = ConsoleFigures(probes=probes)
    connection = connect(settings)
    counter = count_requests(connection)
    state = FleetState(settings, connection=connection, probes=probes)
    source = DeferredSource(state)
    app = make_app(source, settings)
    loaded_at: list[float] = []

    def published(snapshot: Any) -> None:
        if not loaded_at and fleet_loaded(snapshot, tenants):
            loaded_at.append(time.monotonic())

    state.subscribe(published)
    published_log = PublishedLog()
    state.subscribe(published_log)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        observer = PaintObserver(app, tenants)
        observer.attach()
        began = time.monotonic()
        # start() reads the repo synchronously; the app itself runs it in a worker thread.
        await asyncio.to_thread(source.begin)
        await _until(lambda: observer.full_paint_at is not None, 600, "full paint")
        assert observer.full_paint_at is not None
        figures.in_app_cold_start = loaded_at[0] - began
        figures.paint = observer.full_paint_at - loaded_at[0]
        figures.load["load"] = load_average()

        await asyncio.sleep(settle)  # the first probes of the watches settle
        figures.rss_load = rss_mb()
        if tenants > 40:  # room for a filter that leaves few rows
            await _keys(figures, pilot, app)

        if probes:
            await _probe_window(figures, state, began, probe_window, tenants, settings)

        # (5)+(6) idle: nothing changes in the simulator.
        requests0, shown0, sim0 = counter.count, observer.snapshots_shown, sim_cpu()
        window = CpuWindow().start()
        await asyncio.sleep(idle_seconds)
        figures.idle_cpu_pct = window.stop()
        figures.idle_seconds = window.wall
        figures.sim_idle_cpu_pct = 100.0 * (sim_cpu() - sim0) / window.wall
        figures.idle_requests = counter.count - requests0
        figures.idle_requests_per_min = figures.idle_requests * 60.0 / window.wall
        figures.idle_snapshots = observer.snapshots_shown - shown0
        figures.load["idle"] = load_average()

        # (3)+(4) churn from another process.
        if churn_seconds > 0:
            await _churn(
                figures,
                observer,
                published_log,
                settings,
                workdir,
                churn_seconds,
                rate,
                focus_share,
            )
        figures.load["churn"] = load_average()
    return figures


async def _keys(figures: ConsoleFigures, pilot: Any, app: Any) -> None:
    """Whether keys answer with the whole fleet loaded: cursor down and up through the table,
    then a filter typed. Each press is timed until the app has handled it (Pilot waits for
    that), so the figures include the test harness's own wait (~60 ms a key at any size)."""
    table = app.screen.table
    times = []
    keys = ["j"] * 15 + ["k"] * 15 + ["slash", *"tenant-0001"]
    for key in keys:
        began = time.monotonic()
        await pilot.press(key)
        times.append(1000 * (time.monotonic() - began))
    slowest = times.index(max(times))
    figures.key_slowest = f"{keys[slowest]} (press {slowest + 1})"
    began = time.monotonic()
    await _until(lambda: len(table.row_keys) < 30, 30, "filtered rows")
    figures.filter_ms = 1000 * (time.monotonic() - began)
    figures.key_p50_ms = percentile(times, 50)
    figures.key_max_ms = max(times)
    await pilot.press("escape")
    await _until(lambda: len(table.row_keys) > 30, 30, "all rows again")


async def _probe_window(
    figures: ConsoleFigures,
    state: FleetState,
    began: float,
    seconds: float,
    tenants: int,
    settings: Settings,
) -> None:
    """Wait for the first probe round, then measure CPU and the data's age for `seconds`."""
    every_due = max(settings.web.interval, settings.s3.interval)
    budget = tenants / max(1.0, min(settings.web.max_rate, settings.s3.max_rate)) + 120
    await _until(lambda: _probed(state.snapshot) >= tenants, budget + every_due, "probe round")
    figures.probe_first_round_s = time.monotonic() - began
    # One interval more: the first round's bursts (never-probed tenants go first) settle.
    await asyncio.sleep(every_due)
    probes = state._probes  # the benchmark reads the schedulers' counters
    started0 = (probes._web.started + probes._s3.started) if probes else 0
    web_ages: list[float] = []
    s3_ages: list[float] = []
    window = CpuWindow().start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(min(5.0, max(0.0, end - time.monotonic())))
        now = datetime.now(UTC)
        for tenant in state.snapshot.tenants:
            if tenant.web is not None:
                web_ages.append((now - tenant.web.checked_at).total_seconds())
            if tenant.s3 is not None:
                s3_ages.append((now - tenant.s3.checked_at).total_seconds())
    figures.probe_cpu_pct = window.stop()
    figures.probe_window_s = window.wall
    if probes is not None:
        started = probes._web.started + probes._s3.started - started0
        figures.probes_started_per_s = started / window.wall
        figures.kept_connections = probes.web.pool.kept
    figures.web_age_s = _spread(web_ages)
    figures.s3_age_s = _spread(s3_ages)
    figures.load["probes"] = load_average()


def _probed(snapshot: Any) -> int:
    return sum(1 for t in snapshot.tenants if t.web is not None and t.s3 is not None)


def _spread(values: list[float]) -> tuple[float, float, float, float] | None:
    if not values:
        return None
    p50, p90, p99 = (percentile(values, p) or 0.0 for p in (50, 90, 99))
    return (p50, p90, p99, max(values))


async def _churn(
    figures: ConsoleFigures,
    observer: PaintObserver,
    published_log: PublishedLog,
    settings: Settings,
    workdir: Path,
    seconds: float,
    rate: float,
    focus_share: float,
) -> None:
    log = workdir / "churn.jsonl"
    errors = workdir / "churn.err"
    command = [
        sys.executable, str(HERE / "churn.py"), "--kubeconfig", str(settings.kubeconfig),
        "--rate", str(rate), "--seconds", str(seconds), "--out", str(log),
        "--prefix", settings.namespace_prefix,
    ]  # fmt: skip
    # Changes go round-robin over the whole fleet; "on screen" latency is taken for those
    # that land in rows in view (only those are repainted). --focus-share sends a share of
    # the changes to the rows in view instead (more samples, every snapshot repaints).
    visible = observer.visible_tenants()
    if visible and focus_share > 0:
        command += ["--focus", ",".join(visible), "--focus-share", str(focus_share)]
    peak = rss_mb()
    with open(errors, "wb") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=os.environ)
    try:
        next_sample, every = time.monotonic(), max(1.0, seconds / 10)
        while proc.poll() is None:
            if time.monotonic() >= next_sample:
                figures.rss_churn_samples.append(round(rss_mb(), 1))
                next_sample += every
            await asyncio.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.terminate()
    ended = time.monotonic()
    await asyncio.sleep(2.0)  # the last changes reach the screen
    records = churn_records(log, until=ended)
    latencies, missing = stage_latencies(records, observer.painted, set(visible))
    figures.churn_sent = len(records)
    figures.visible_changes = len(latencies) + missing
    _, figures.churn_missing = stage_latencies(records, observer.table_timeline)
    figures.churn_missing += missing
    figures.churn_rate = len(records) / seconds if seconds else None
    if latencies:
        figures.latency_p50_ms = 1000 * (percentile(latencies, 50) or 0)
        figures.latency_p95_ms = 1000 * (percentile(latencies, 95) or 0)
        figures.latency_max_ms = 1000 * max(latencies)
    for attribute, timeline in (
        ("published_ms", published_log.timeline),
        ("table_ms", observer.table_timeline),
    ):
        found, _ = stage_latencies(records, timeline)
        if found:
            p50, p95 = percentile(found, 50) or 0, percentile(found, 95) or 0
            setattr(figures, attribute, (1000 * p50, 1000 * p95))
    if proc.returncode:
        tail = errors.read_text(errors="replace").strip().splitlines()[-1:]
        figures.notes.append(f"churn driver exit {proc.returncode}: {' '.join(tail)}")
    figures.rss_churn = rss_mb()
    figures.rss_churn_max = max([peak, figures.rss_churn, *figures.rss_churn_samples])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--sim-pid", type=int, required=True)
    parser.add_argument("--probes", action="store_true")
    parser.add_argument("--probe-interval", type=float, default=None)
    parser.add_argument("--probe-window", type=float, default=60.0)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--churn-seconds", type=float, default=0.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--focus-share", type=float, default=0.0)
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.probe_interval:
        interval = {"interval": args.probe_interval}
        settings = settings.model_copy(
            update={
                "web": settings.web.model_copy(update=interval),
                "s3": settings.s3.model_copy(update=interval),
            }
        )
    args.workdir.mkdir(parents=True, exist_ok=True)
    figures = asyncio.run(
        run_console(
            settings, args.tenants, workdir=args.workdir,
            sim_cpu=lambda: process_cpu_seconds(args.sim_pid), idle_seconds=args.idle,
            churn_seconds=args.churn_seconds, rate=args.rate, settle=args.settle,
            probes=args.probes, focus_share=args.focus_share, probe_window=args.probe_window,
        )
    )  # fmt: skip
    print(json.dumps(asdict(figures)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
