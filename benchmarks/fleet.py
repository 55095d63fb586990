"""Fleet-scale benchmark of the console against the raw-list floor and `kubectl`, per fleet size.

    uv run python benchmarks/fleet.py --tenants 2000,5000 [--probes] [--churn-seconds 600]
        [--idle-seconds 60] [--rate 50] [--runs 3] [--no-promotion] [--quick]

For each N the simulator runs as its own process (`ncconsole sim --tenants N`; how long it took
to start is reported), and so does every console measured, so only the console's own work is
counted. Per N it prints a table, every target of issue 17 with pass/fail, and one JSON line
(keys: see METRICS). Figures:
(1) cold start of the fleet state (fresh process) against the raw-list floor (the console's own
    lists, read and json-decoded, nothing else: floor.py), interleaved, paired ratio;
    `kubectl get pods,deployments -A -o json` + `kubectl get applications.argoproj.io -A -o json`;
(2) state complete -> first full paint (headless Textual); keys answered with the fleet loaded;
(3) RSS after load / during and after churn; (4) change -> row painted p50/p95 under churn at
--rate changes/s (driver in its own process), with probes on when --probes is given;
(5) idle CPU with probes off; (6) API requests per minute while idle;
with --probes: the age of every tenant's status.php and S3 data (p50/p90/p99/max) and the
console's CPU with probes on, steady (both intervals --probe-interval s), and
`ncconsole status --format json` (every tenant probed) against the two kubectl lists;
(7) wave promotion overhead (see promotion_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import load_average, machine
from rich.console import Console
from rich.table import Table
from scenario_file import write_scenario
from simproc import SimProcess

from ncconsole.settings import load_settings

HERE = Path(__file__).resolve().parent
KUBECTL = Path(sys.executable).parent / "kubectl"

METRICS = (
    "tenants", "cold_start_s", "kubectl_s", "cold_start_ratio", "imports_s", "floor_s",
    "floor_ratio", "floor_ratio_range", "floor_best_s", "floor_best_ratio",
    "in_app_cold_start_s", "paint_s", "rss_load_mb",
    "rss_churn_mb", "rss_churn_max_mb", "rss_idle_mb", "latency_p50_ms", "latency_p95_ms",
    "latency_max_ms", "visible_changes", "published_p50_p95_ms", "table_p50_p95_ms",
    "churn_changes", "churn_missing", "churn_rate", "churn_with_probes", "idle_cpu_pct",
    "idle_requests_per_min", "idle_snapshots", "sim_idle_cpu_pct", "probe_cpu_pct",
    "web_age_s", "s3_age_s", "probe_first_round_s", "probes_started_per_s", "kept_connections",
    "probe_interval_s", "status_s", "status_kubectl_s", "status_ratio", "status_unprobed",
    "key_p50_ms", "key_max_ms", "key_slowest", "filter_ms", "promotion_total_s",
    "promotion_sim_s", "promotion_overhead_s", "promotion_note", "rss_churn_samples_mb", "load",
    "sim_start_s", "churn_seconds", "idle_seconds", "focus_share", "targets",
)  # fmt: skip

# Issue 17's targets, by fleet size: up to 2,000 tenants the first column, up to 5,000 the
# second; beyond, the console must be complete in < 10 s and keys must answer.
TARGETS_2000 = {
    "floor_ratio": ("cold start / raw-list floor", 1.25),
    "web_age_p99": ("status.php data age p99 (probes on)", 30.0),
    "s3_age_p99": ("S3 data age p99 (probes on)", 30.0),
    "probe_cpu_pct": ("console CPU with probes on, steady (% of a core)", 10.0),
    "idle_cpu_pct": ("idle CPU, probes off (% of a core)", 1.0),
    "rss_load_mb": ("RSS after load (MB)", 200.0),
    "rss_churn_mb": ("RSS after churn (MB)", 200.0),
    "latency_p95_ms": ("change → row painted p95 (ms)", 150.0),
    "status_ratio": ("status --format json complete / kubectl lists", 1.0),
}
TARGETS_5000 = {
    **TARGETS_2000,
    "web_age_p99": ("status.php data age p99 (probes on)", 60.0),
    "s3_age_p99": ("S3 data age p99 (probes on)", 60.0),
    "probe_cpu_pct": ("console CPU with probes on, steady (% of a core)", 20.0),
    "idle_cpu_pct": ("idle CPU, probes off (% of a core)", 1.5),
    "rss_load_mb": ("RSS after load (MB)", 300.0),
    "rss_churn_mb": ("RSS after churn (MB)", 300.0),
    "latency_p95_ms": ("change → row painted p95 (ms)", 200.0),
}
TARGETS_10000 = {
    "complete_s": ("console complete (cold start + full paint, s)", 10.0),
    "key_max_ms": ("keys answer: slowest of 42 presses (ms)", 1000.0),
}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def kubectl_lists(kubeconfig: Path) -> float:
    """Wall time of the two kubectl reads, back to back."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    commands = (
        [str(KUBECTL), "get", "pods,deployments", "-A", "-o", "json"],
        [str(KUBECTL), "get", "applications.argoproj.io", "-A", "-o", "json"],
    )
    began = time.monotonic()
    for command in commands:
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - began


def _json_run(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True, text=True, check=False, env=os.environ,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_cold_start(tenants: int, runs: int) -> dict[str, Any]:
    """Cold start and the raw-list floor, each in a fresh process, interleaved (the order
    alternating), with kubectl once per pair: medians and the paired ratios."""
    colds, floors, bests, imports, ratios, best_ratios = [], [], [], [], [], []
    for run in range(runs):
        order = ["floor", "best", "cold"]
        got: dict[str, float] = {}
        for what in order[run % 3 :] + order[: run % 3]:  # rotated each run
            if what == "floor":
                got["floor"] = _json_run("floor.py")["floor"]
            elif what == "best":
                got["best"] = _json_run("floor.py", "--best")["floor"]
            else:
                result = _json_run("coldstart.py", "--tenants", str(tenants))
                got["cold"], got["imports"] = result["cold_start"], result["imports"]
        colds.append(got["cold"])
        floors.append(got["floor"])
        bests.append(got["best"])
        imports.append(got["imports"])
        ratios.append(got["cold"] / got["floor"])
        best_ratios.append(got["cold"] / got["best"])
    return {
        "cold_start_s": _median(colds),
        "floor_s": _median(floors),
        "floor_best_s": _median(bests),
        "imports_s": _median(imports),
        "floor_ratio": _median(ratios),
        "floor_ratio_range": [min(ratios), max(ratios)],
        "floor_best_ratio": _median(best_ratios),
    }


def time_status(kubeconfig: Path, runs: int) -> dict[str, Any]:
    """`ncconsole status --format json` (whole process) against the two kubectl lists,
    interleaved; also how many tenants it printed without status.php or S3 data."""
    statuses, kubectls, ratios, unprobed = [], [], [], []
    for _ in range(runs):
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "ncconsole", "status", "--format", "json"],
            capture_output=True, text=True, check=False, env=os.environ,
        )  # fmt: skip
        took = time.monotonic() - began
        if done.returncode not in (0, 1):
            raise RuntimeError(f"status failed: {done.stderr.strip()[-400:]}")
        data = json.loads(done.stdout)
        rows = data["tenants"] if isinstance(data, dict) else data
        unprobed.append(sum(1 for row in rows if row.get("in_repo", True)
                            and (row.get("version") is None or row.get("s3") is None)))  # fmt: skip
        lists = kubectl_lists(kubeconfig)
        statuses.append(took)
        kubectls.append(lists)
        ratios.append(took / lists)
    return {
        "status_s": _median(statuses),
        "status_kubectl_s": _median(kubectls),
        "status_ratio": _median(ratios),
        "status_unprobed": max(unprobed),
    }


def run_console(sim: SimProcess, workdir: Path, args: argparse.Namespace, **mode: Any) -> dict:
    """One console (FleetState + headless app) in its own process: its ConsoleFigures."""
    argv = [
        "--tenants", str(sim.tenants), "--workdir", str(workdir), "--sim-pid", str(sim.pid),
        "--idle", str(mode.get("idle", args.idle)), "--settle", str(args.settle),
        "--rate", str(args.rate), "--focus-share", str(args.focus_share),
        "--churn-seconds", str(mode.get("churn", 0.0)),
        "--probe-window", str(args.probe_window), "--probe-interval", str(args.probe_interval),
    ]  # fmt: skip
    if mode.get("probes"):
        argv.append("--probes")
    return _json_run("console_run.py", *argv)


def bench_one(tenants: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    workdir = root / f"n{tenants}"
    result: dict[str, Any] = dict.fromkeys(METRICS)
    result.update(
        tenants=tenants, churn_seconds=args.churn_seconds, idle_seconds=args.idle,
        focus_share=args.focus_share, probe_interval_s=args.probe_interval,
        churn_with_probes=bool(args.probes),
    )  # fmt: skip
    load: dict[str, float] = {"before": load_average()}
    workdir.mkdir(parents=True, exist_ok=True)
    # Smoke records, the audit log and the repo cache go here, not to the user's directories.
    os.environ["XDG_STATE_HOME"] = str(workdir / "state")
    os.environ["XDG_CACHE_HOME"] = str(workdir / "cache")
    scenario = write_scenario(workdir / "scenario.yaml", tenants)
    with SimProcess(tenants, workdir / "sim", scenario) as sim:
        result["sim_start_s"] = sim.started_in
        os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
        settings = load_settings()
        kubectl_lists(sim.kubeconfig)  # fills kubectl's discovery cache
        result["kubectl_s"] = _median([kubectl_lists(sim.kubeconfig) for _ in range(args.runs)])
        load["kubectl"] = load_average()
        result.update(time_cold_start(tenants, args.runs))
        load["cold_start"] = load_average()
        if result["cold_start_s"] and result["kubectl_s"]:
            result["cold_start_ratio"] = result["cold_start_s"] / result["kubectl_s"]
        if args.probes:
            result.update(time_status(sim.kubeconfig, args.runs))
            load["status"] = load_average()

        off = run_console(sim, workdir / "off", args, churn=0 if args.probes else args.churn)
        _console_figures(result, off, probes=False)
        load.update({f"off_{k}": v for k, v in off["load"].items()})
        if args.probes:
            on = run_console(sim, workdir / "on", args, probes=True, churn=args.churn, idle=0)
            _console_figures(result, on, probes=True)
            load.update({f"on_{k}": v for k, v in on["load"].items()})

        if args.promotion:
            from promotion_bench import promotion_figures

            result.update(promotion_figures(settings, sim, tenants, args))
        else:
            result["promotion_note"] = "skipped (--no-promotion)"
        load["promotion"] = load_average()
        os.environ.pop("NCCONSOLE_CONFIG", None)
    result["load"] = load
    result["targets"] = judge(result)
    return result


def _console_figures(result: dict[str, Any], figures: dict[str, Any], probes: bool) -> None:
    if not probes:
        result.update(
            in_app_cold_start_s=figures["in_app_cold_start"],
            paint_s=figures["paint"],
            rss_idle_mb=figures["rss_load"],
            idle_cpu_pct=figures["idle_cpu_pct"],
            idle_requests_per_min=figures["idle_requests_per_min"],
            idle_snapshots=figures["idle_snapshots"],
            sim_idle_cpu_pct=figures["sim_idle_cpu_pct"],
            key_p50_ms=figures["key_p50_ms"],
            key_max_ms=figures["key_max_ms"],
            key_slowest=figures["key_slowest"],
            filter_ms=figures["filter_ms"],
        )
    else:
        result.update(
            probe_cpu_pct=figures["probe_cpu_pct"],
            web_age_s=figures["web_age_s"],
            s3_age_s=figures["s3_age_s"],
            probe_first_round_s=figures["probe_first_round_s"],
            probes_started_per_s=figures["probes_started_per_s"],
            kept_connections=figures["kept_connections"],
        )
    if figures["churn_sent"] or not probes:  # the run that churned gives RSS and latency
        result.update(
            rss_load_mb=figures["rss_load"],
            rss_churn_mb=figures["rss_churn"],
            rss_churn_max_mb=figures["rss_churn_max"],
            rss_churn_samples_mb=figures["rss_churn_samples"],
            latency_p50_ms=figures["latency_p50_ms"],
            latency_p95_ms=figures["latency_p95_ms"],
            latency_max_ms=figures["latency_max_ms"],
            visible_changes=figures["visible_changes"],
            published_p50_p95_ms=figures["published_ms"],
            table_p50_p95_ms=figures["table_ms"],
            churn_changes=figures["churn_sent"],
            churn_missing=figures["churn_missing"],
            churn_rate=figures["churn_rate"],
        )


def judge(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target for this fleet size: value, limit, and met / missed / not measured."""
    n = result["tenants"]
    values = dict(result)
    values["web_age_p99"] = (result["web_age_s"] or [None] * 4)[2]
    values["s3_age_p99"] = (result["s3_age_s"] or [None] * 4)[2]
    if result["in_app_cold_start_s"] is not None and result["paint_s"] is not None:
        values["complete_s"] = result["in_app_cold_start_s"] + result["paint_s"]
    targets = TARGETS_2000 if n <= 2000 else TARGETS_5000 if n <= 5000 else TARGETS_10000
    verdicts = []
    for key, (label, limit) in targets.items():
        value = values.get(key)
        if (
            key in ("rss_load_mb", "rss_churn_mb", "latency_p95_ms")
            and not result["churn_with_probes"]
        ):
            label += " [probes off]"
        verdict = "n/a" if value is None else "met" if value <= limit else "missed"
        verdicts.append({"target": label, "value": value, "limit": limit, "verdict": verdict})
    return verdicts


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _pair(value: Any) -> str:
    return "—" if not value else f"{value[0]:.0f}/{value[1]:.0f} ms"


def _ages(value: Any) -> str:
    return "—" if not value else " / ".join(f"{v:.1f}" for v in value) + " s"


def table_for(result: dict[str, Any]) -> Table:
    n, load = result["tenants"], result["load"] or {}
    table = Table(title=f"ncconsole fleet benchmark — {n} tenants")
    for column in ("metric", "value", "load avg"):
        table.add_column(column)
    spread = result["floor_ratio_range"] or [None, None]
    rows = [
        ("simulator start", _fmt(result["sim_start_s"], " s", 1), load.get("before")),
        ("(1) raw-list floor (own lists + json.loads)", _fmt(result["floor_s"], " s", 3),
         load.get("cold_start")),
        ("    cold start, fleet state / floor",
         f"{_fmt(result['cold_start_s'], ' s', 3)} / {_fmt(result['floor_ratio'], '×')}"
         f" [{_fmt(spread[0], '', 2)}–{_fmt(spread[1], '', 2)}]", load.get("cold_start")),
        ("    floor paged + GC off (the console's tricks) / cold start ÷ it",
         f"{_fmt(result['floor_best_s'], ' s', 3)} / {_fmt(result['floor_best_ratio'], '×')}",
         load.get("cold_start")),
        ("    kubectl get (same data), cold start / kubectl",
         f"{_fmt(result['kubectl_s'], ' s')} / {_fmt(result['cold_start_ratio'], '×')}",
         load.get("kubectl")),
        ("    imports / in-app cold start",
         f"{_fmt(result['imports_s'], ' s')} / {_fmt(result['in_app_cold_start_s'], ' s')}",
         load.get("off_load")),
        ("(2) state complete → full paint", _fmt(result["paint_s"], " s", 3),
         load.get("off_load")),
        ("    keys: p50 / max of 42 presses · filter shown after",
         f"{_fmt(result['key_p50_ms'], ' ms', 0)} / {_fmt(result['key_max_ms'], ' ms', 0)} "
         f"({result.get('key_slowest') or '?'}) · "
         f"{_fmt(result['filter_ms'], ' ms', 0)}", load.get("off_load")),
        ("(3) RSS after load (probes off)", _fmt(result["rss_idle_mb"], " MB", 0),
         load.get("off_load")),
        ("    RSS after load · after churn (max)",
         f"{_fmt(result['rss_load_mb'], ' MB', 0)} · {_fmt(result['rss_churn_mb'], ' MB', 0)}"
         f" ({_fmt(result['rss_churn_max_mb'], ' MB', 0)})", load.get("on_churn")),
        ("(4) change → row painted p50 / p95",
         f"{_fmt(result['latency_p50_ms'], ' ms', 0)} / {_fmt(result['latency_p95_ms'], ' ms', 0)}"
         + (" (probes on)" if result["churn_with_probes"] else " (probes off)"),
         load.get("on_churn" if result["churn_with_probes"] else "off_churn")),
        ("    stages p50/p95: published · table",
         f"{_pair(result['published_p50_p95_ms'])} · {_pair(result['table_p50_p95_ms'])}", ""),
        ("    changes (rate, in view, unseen)",
         f"{result['churn_changes']} ({_fmt(result['churn_rate'], '/s', 1)}, "
         f"{result['visible_changes']} in view, {result['churn_missing']} unseen)", ""),
        ("(5) idle CPU, probes off", _fmt(result["idle_cpu_pct"], " %"), load.get("off_idle")),
        ("(6) API requests / min idle", _fmt(result["idle_requests_per_min"], "", 1),
         load.get("off_idle")),
        ("probes: CPU with probes on, steady", _fmt(result["probe_cpu_pct"], " %"),
         load.get("on_probes")),
        ("    status.php age p50/p90/p99/max", _ages(result["web_age_s"]), load.get("on_probes")),
        ("    S3 age p50/p90/p99/max", _ages(result["s3_age_s"]), load.get("on_probes")),
        ("    interval · probes started/s · kept connections · first round",
         f"{_fmt(result['probe_interval_s'], ' s', 0)} · "
         f"{_fmt(result['probes_started_per_s'], '', 1)} · {_fmt(result['kept_connections'])} · "
         f"{_fmt(result['probe_first_round_s'], ' s', 1)}", ""),
        ("status --format json / kubectl lists",
         f"{_fmt(result['status_s'], ' s', 1)} / {_fmt(result['status_kubectl_s'], ' s', 1)} = "
         f"{_fmt(result['status_ratio'], '×')} ({_fmt(result['status_unprobed'])} unprobed)",
         load.get("status")),
        ("(7) promotion overhead", _fmt(result["promotion_overhead_s"], " s"),
         load.get("promotion")),
    ]  # fmt: skip
    for label, value, avg in rows:
        table.add_row(label, value, _fmt(avg) if avg != "" else "")
    if result["promotion_note"]:
        table.caption = f"(7) {result['promotion_note']}"
    return table


def targets_table(result: dict[str, Any]) -> Table:
    n = result["tenants"]
    title = f"issue 17 targets at {n} tenants"
    if n not in (2000, 5000, 10000):
        title += f" (stated for {2000 if n < 2000 else 5000 if n < 5000 else 10000}: indicative)"
    table = Table(title=title)
    for column in ("target", "value", "limit", "verdict"):
        table.add_column(column)
    for item in result["targets"]:
        style = {"met": "green", "missed": "bold red"}.get(item["verdict"], "dim")
        table.add_row(
            item["target"], _fmt(item["value"]), _fmt(item["limit"]), item["verdict"], style=style
        )
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", default="100,500,2000", help="comma-separated sizes")
    parser.add_argument("--churn-seconds", dest="churn", type=float, default=600.0)
    parser.add_argument("--idle", "--idle-seconds", dest="idle", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0, help="churn changes per second")
    parser.add_argument(
        "--focus-share", type=float, default=0.0,
        help="share of the churn sent to the rows in view (stress case; default: none)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="runs of kubectl, cold start, status")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before idle")
    parser.add_argument(
        "--probes", action="store_true",
        help="also run the console with status.php/S3 probes on (ages, CPU; churn with them)",
    )  # fmt: skip
    parser.add_argument("--probe-interval", type=float, default=15.0, help="web and S3, s")
    parser.add_argument("--probe-window", type=float, default=60.0, help="steady window, s")
    parser.add_argument("--no-promotion", dest="promotion", action="store_false")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--quick", action="store_true", help="tiny windows, one run each (CI: keeps it working)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.churn, args.idle, args.runs, args.settle = 3.0, 2.0, 1, 0.5
        args.probe_window = 5.0
    args.churn_seconds = args.churn
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(part) for part in args.tenants.split(",") if part.strip()]
    console = Console(width=max(120, Console().width))
    info = machine()
    console.print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
        f"Python {info['python']}; load {load_average():.2f}; "
        f"command: {' '.join(sys.argv)}"
    )
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ncconsole-bench-", dir=args.workdir) as tmp:
        for tenants in sizes:
            result = bench_one(tenants, args, Path(tmp))
            result["machine"] = info
            console.print(table_for(result))
            console.print(targets_table(result))
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
