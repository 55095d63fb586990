"""The console side of the benchmark: FleetState + the Textual app (headless) in this process.

`run_console(...)` starts the app first (empty, idle), then the live FleetState under it, and
measures, in order: state complete -> full paint, RSS after load, an idle window (CPU of this
process, API requests sent), a churn window (the driver in its own process changes the fleet
at `rate` changes/s; change -> row painted latencies; RSS during and after).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coldstart import fleet_loaded
from measure import CpuWindow, count_requests, load_average, percentile, rss_mb
from screen_watch import (
    DeferredSource,
    PaintObserver,
    PublishedLog,
    churn_records,
    stage_latencies,
)

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.settings import Settings
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
    size: tuple[int, int] = (200, 60),
) -> ConsoleFigures:
    figures = ConsoleFigures()
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
        await _until(lambda: observer.full_paint_at is not None, 180, "full paint")
        assert observer.full_paint_at is not None
        figures.in_app_cold_start = loaded_at[0] - began
        figures.paint = observer.full_paint_at - loaded_at[0]
        figures.load["load"] = load_average()

        await asyncio.sleep(settle)  # the first probes of the watches settle
        figures.rss_load = rss_mb()

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
