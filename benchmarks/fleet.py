"""Fleet-scale benchmark of the console against `kubectl`, per fleet size.

    uv run python benchmarks/fleet.py --tenants 100,500,2000 [--churn-seconds 600]
        [--idle-seconds 60] [--rate 50] [--runs 3] [--quick]

For each N the simulator runs as its own process (`ncconsole sim --tenants N`), so only the
console's own work is counted here. Per N it prints a table and one JSON line (keys: see
METRICS). Figures: (1) cold start of the fleet state (fresh process, median of --runs) vs
`kubectl get pods,deployments -A -o json` + `kubectl get applications.argoproj.io -A -o json`
(median of --runs, discovery cache warm); (2) state complete -> first full paint of the fleet
screen (headless Textual); (3) RSS after load / after churn; (4) change -> row painted p50/p95
under churn at --rate changes/s (driver in its own process); (5) idle CPU of this process;
(6) API requests per minute while idle; (7) wave promotion overhead (see promotion_bench).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from console_run import ConsoleFigures, run_console
from measure import load_average, machine
from rich.console import Console
from rich.table import Table
from scenario_file import write_scenario
from simproc import SimProcess

from ncconsole.settings import load_settings

HERE = Path(__file__).resolve().parent
KUBECTL = Path(sys.executable).parent / "kubectl"

METRICS = (
    "tenants", "cold_start_s", "kubectl_s", "cold_start_ratio", "imports_s",
    "in_app_cold_start_s", "paint_s", "rss_load_mb", "rss_churn_mb", "rss_churn_max_mb",
    "latency_p50_ms", "latency_p95_ms", "latency_max_ms", "visible_changes",
    "published_p50_p95_ms", "table_p50_p95_ms", "churn_changes", "churn_missing",
    "churn_rate", "idle_cpu_pct", "idle_requests_per_min", "idle_snapshots",
    "sim_idle_cpu_pct", "promotion_total_s", "promotion_sim_s", "promotion_overhead_s",
    "promotion_note", "rss_churn_samples_mb", "load", "sim_start_s", "churn_seconds",
    "idle_seconds", "focus_share",
)  # fmt: skip

# N = 2000 targets from the issue.
TARGETS = {
    "cold_start_s": "≤ 1.5× kubectl and < 3 s",
    "paint_s": "< 2 s",
    "rss_load_mb": "< 250 MB",
    "rss_churn_mb": "< 250 MB, no growth",
    "latency_p95_ms": "< 300 ms",
    "idle_cpu_pct": "< 3 % of a core",
    "idle_requests_per_min": "flat in N",
}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def time_kubectl(kubeconfig: Path, runs: int) -> float:
    """Median wall time of the two kubectl reads, back to back (after one warm-up run)."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    commands = (
        [str(KUBECTL), "get", "pods,deployments", "-A", "-o", "json"],
        [str(KUBECTL), "get", "applications.argoproj.io", "-A", "-o", "json"],
    )
    times = []
    for attempt in range(runs + 1):
        began = time.monotonic()
        for command in commands:
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
        if attempt:  # the first run fills kubectl's discovery cache
            times.append(time.monotonic() - began)
    return _median(times) or 0.0


def time_cold_start(tenants: int, runs: int) -> tuple[float | None, float | None]:
    """Median (imports, cold start) of `runs` fresh console processes."""
    imports, colds = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, str(HERE / "coldstart.py"), "--tenants", str(tenants)],
            capture_output=True, text=True, check=False, env=os.environ,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"cold start run failed: {done.stderr.strip()[-300:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        imports.append(result["imports"])
        colds.append(result["cold_start"])
    return _median(imports), _median(colds)


def bench_one(tenants: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    workdir = root / f"n{tenants}"
    result: dict[str, Any] = dict.fromkeys(METRICS)
    result.update(
        tenants=tenants, churn_seconds=args.churn_seconds, idle_seconds=args.idle,
        focus_share=args.focus_share,
    )  # fmt: skip
    load: dict[str, float] = {"before": load_average()}
    workdir.mkdir(parents=True, exist_ok=True)
    # Smoke records and the audit log of the promotion go here, not to the user's state dir.
    os.environ["XDG_STATE_HOME"] = str(workdir / "state")
    scenario = write_scenario(workdir / "scenario.yaml", tenants)
    with SimProcess(tenants, workdir / "sim", scenario) as sim:
        result["sim_start_s"] = sim.started_in
        os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
        settings = load_settings()
        result["kubectl_s"] = time_kubectl(sim.kubeconfig, args.runs)
        load["kubectl"] = load_average()
        result["imports_s"], result["cold_start_s"] = time_cold_start(tenants, args.runs)
        load["cold_start"] = load_average()
        if result["cold_start_s"] and result["kubectl_s"]:
            result["cold_start_ratio"] = result["cold_start_s"] / result["kubectl_s"]
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        figures: ConsoleFigures = asyncio.run(
            run_console(
                settings, tenants, workdir=workdir, sim_cpu=sim.cpu_seconds,
                idle_seconds=args.idle, churn_seconds=args.churn_seconds, rate=args.rate,
                settle=args.settle, probes=args.probes, focus_share=args.focus_share,
            )
        )  # fmt: skip
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{args.profile}.n{tenants}")
        load.update(figures.load)
        result.update(
            in_app_cold_start_s=figures.in_app_cold_start,
            paint_s=figures.paint,
            rss_load_mb=figures.rss_load,
            rss_churn_mb=figures.rss_churn,
            rss_churn_max_mb=figures.rss_churn_max,
            rss_churn_samples_mb=figures.rss_churn_samples,
            latency_p50_ms=figures.latency_p50_ms,
            latency_p95_ms=figures.latency_p95_ms,
            latency_max_ms=figures.latency_max_ms,
            visible_changes=figures.visible_changes,
            published_p50_p95_ms=figures.published_ms,
            table_p50_p95_ms=figures.table_ms,
            churn_changes=figures.churn_sent,
            churn_missing=figures.churn_missing,
            churn_rate=figures.churn_rate,
            idle_cpu_pct=figures.idle_cpu_pct,
            idle_requests_per_min=figures.idle_requests_per_min,
            idle_snapshots=figures.idle_snapshots,
            sim_idle_cpu_pct=figures.sim_idle_cpu_pct,
        )
        if args.promotion:
            from promotion_bench import promotion_figures

            result.update(promotion_figures(settings, sim, tenants, args))
        else:
            result["promotion_note"] = "skipped (--no-promotion)"
        load["promotion"] = load_average()
        os.environ.pop("NCCONSOLE_CONFIG", None)
    result["load"] = load
    return result


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _pair(value: Any) -> str:
    return "—" if not value else f"{value[0]:.0f}/{value[1]:.0f} ms"


def table_for(result: dict[str, Any]) -> Table:
    n, load = result["tenants"], result["load"] or {}
    table = Table(title=f"ncconsole fleet benchmark — {n} tenants")
    for column in ("metric", "value", "target (N=2000)", "load avg"):
        table.add_column(column)
    ratio = _fmt(result["cold_start_ratio"], "×")
    rows = [
        ("(1) cold start, fleet state", _fmt(result["cold_start_s"], " s"), "cold_start_s",
         load.get("cold_start")),
        ("    kubectl get (same data)", _fmt(result["kubectl_s"], " s") + f"  ratio {ratio}",
         "", load.get("kubectl")),
        ("    imports / in-app cold start",
         f"{_fmt(result['imports_s'], ' s')} / {_fmt(result['in_app_cold_start_s'], ' s')}",
         "", load.get("load")),
        ("(2) state complete → full paint", _fmt(result["paint_s"], " s", 3), "paint_s",
         load.get("load")),
        ("(3) RSS after load", _fmt(result["rss_load_mb"], " MB", 0), "rss_load_mb",
         load.get("load")),
        ("    RSS after churn (max)",
         f"{_fmt(result['rss_churn_mb'], ' MB', 0)} ({_fmt(result['rss_churn_max_mb'], ' MB', 0)})",
         "rss_churn_mb", load.get("churn")),
        ("(4) change → row painted p50 / p95",
         f"{_fmt(result['latency_p50_ms'], ' ms', 0)} / {_fmt(result['latency_p95_ms'], ' ms', 0)}",
         "latency_p95_ms", load.get("churn")),
        ("    stages p50/p95: published · table",
         f"{_pair(result['published_p50_p95_ms'])} · {_pair(result['table_p50_p95_ms'])}",
         "", load.get("churn")),
        ("    changes (rate, in view, unseen)",
         f"{result['churn_changes']} ({_fmt(result['churn_rate'], '/s', 1)}, "
         f"{result['visible_changes']} in view, {result['churn_missing']} unseen)", "",
         load.get("churn")),
        ("(5) idle CPU (console process)", _fmt(result["idle_cpu_pct"], " %"), "idle_cpu_pct",
         load.get("idle")),
        ("(6) API requests / min idle", _fmt(result["idle_requests_per_min"], "", 1),
         "idle_requests_per_min", load.get("idle")),
        ("(7) promotion overhead", _fmt(result["promotion_overhead_s"], " s"), "",
         load.get("promotion")),
    ]  # fmt: skip
    for label, value, target, avg in rows:
        table.add_row(label, value, TARGETS.get(target, ""), _fmt(avg))
    if result["promotion_note"]:
        table.caption = f"(7) {result['promotion_note']}"
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", default="100,500,2000", help="comma-separated sizes")
    parser.add_argument("--churn-seconds", type=float, default=600.0)
    parser.add_argument("--idle", "--idle-seconds", dest="idle", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0, help="churn changes per second")
    parser.add_argument(
        "--focus-share", type=float, default=0.0,
        help="share of the churn sent to the rows in view (stress case; default: none)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="runs of kubectl and cold start")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before idle")
    parser.add_argument("--probes", action="store_true", help="run status.php/S3 probes too")
    parser.add_argument("--no-promotion", dest="promotion", action="store_false")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--profile", default=None, metavar="PATH", help="cProfile the console's loop to PATH.nN"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny windows, one run each (CI: keeps it working)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.churn_seconds, args.idle, args.runs, args.settle = 3.0, 2.0, 1, 0.5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(part) for part in args.tenants.split(",") if part.strip()]
    console = Console(width=max(120, Console().width))
    info = machine()
    console.print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
        f"Python {info['python']}; load {load_average():.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="ncconsole-bench-", dir=args.workdir) as tmp:
        for tenants in sizes:
            result = bench_one(tenants, args, Path(tmp))
            result["machine"] = info
            console.print(table_for(result))
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
