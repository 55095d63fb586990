"""`ncconsole status`: the fleet rows once, for scripts and for people without a TUI.

Exit codes: 0 every shown tenant is healthy, 1 at least one is not, 2 the fleet could not be
read (bad kubeconfig, API unreachable).
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ncconsole.cli.fleet_reading import start_fleet
from ncconsole.cli.options import (
    WAVE,
    cluster_options,
    format_option,
    repo_option,
    with_settings,
)
from ncconsole.errors import NcConsoleError
from ncconsole.fleet.health import pods_ready
from ncconsole.fleet.model import FleetSnapshot, Health, KindStatus, TenantState
from ncconsole.fleet.state import FleetTimeout
from ncconsole.settings import Settings

SYMBOL = {
    Health.HEALTHY: "✓",
    Health.PROGRESSING: "↻",
    Health.UNKNOWN: "?",
    Health.MISSING: "∅",
    Health.FAILED: "✗",
    Health.DEGRADED: "✗",
}
STYLE = {
    Health.HEALTHY: "green",
    Health.PROGRESSING: "yellow",
    Health.UNKNOWN: "dim",
    Health.MISSING: "magenta",
    Health.FAILED: "red",
    Health.DEGRADED: "red",
}


def probes_done(snapshot: FleetSnapshot) -> bool:
    return all(t.web is not None and t.s3 is not None for t in snapshot.tenants if t.in_repo)


def read_fleet(settings: Settings) -> FleetSnapshot:
    """Start watching, wait for the lists and one round of probes, stop; the snapshot."""
    fleet, _ = start_fleet(settings, probes=True)
    try:
        probe_time = max(settings.web.timeout, settings.s3.timeout) + 5.0
        try:
            return fleet.wait_for(lambda s: s.complete and probes_done(s), probe_time)
        except FleetTimeout as err:
            return err.snapshot  # show what we have; unprobed tenants say "pending"
    finally:
        fleet.stop()


def tenant_record(t: TenantState) -> dict[str, Any]:
    """One tenant as the JSON output shows it (stable keys, for scripts)."""
    app, web, s3 = t.app, t.web, t.s3
    ready, desired = pods_ready(t.pods, t.deployment)
    return {
        "name": t.name,
        "wave": t.wave,
        "environment": t.environment,
        "namespace": t.namespace,
        "in_repo": t.in_repo,
        "health": t.health.value,
        "reason": t.reason,
        "drift": list(t.drift),
        "sync": app.sync_status if app else None,
        "argo_health": app.health_status if app else None,
        "pods_ready": ready,
        "pods_desired": desired,
        "restarts": sum(p.restarts for p in t.pods),
        "version": (web.versionstring or web.version or None) if web else None,
        "maintenance": web.maintenance if web else None,
        "web_error": web.error if web and not web.ok else None,
        "s3": s3.state if s3 else None,
        "s3_objects": s3.object_count if s3 else None,
        "s3_bytes": s3.bytes_used if s3 else None,
        "smoke": t.smoke.as_dict() if t.smoke else None,
    }


def snapshot_record(snapshot: FleetSnapshot, tenants: list[TenantState]) -> dict[str, Any]:
    platform = snapshot.platform

    def deployment(view: Any) -> dict[str, Any] | None:
        if view is None:
            return None
        return {"name": view.name, "ready": view.ready_replicas, "desired": view.replicas}

    return {
        "context": snapshot.context,
        "cluster": snapshot.cluster,
        "repo": snapshot.repo,
        "api_reachable": snapshot.api_reachable,
        "api_error": snapshot.api_error or None,
        "kinds": {k: v.status.value for k, v in sorted(snapshot.kinds.items())},
        "platform": {
            "redis": deployment(platform.redis),
            "pgbouncer": deployment(platform.pgbouncer),
            "secret_store_ready": platform.secret_store_ready,
        },
        "repo_problems": list(snapshot.repo_problems),
        "tenants": [tenant_record(t) for t in tenants],
    }


def _wave_title(wave: int | None, tenants: list[TenantState]) -> str:
    name = "no wave" if wave is None else f"wave {wave}" + (" (canary)" if wave == 0 else "")
    counts: dict[str, int] = {}
    for t in tenants:
        counts[t.health.value] = counts.get(t.health.value, 0) + 1
    parts = [f"{n} {word}" for word, n in sorted(counts.items(), key=lambda kv: kv[0] != "healthy")]
    return f"{name} · {len(tenants)} tenant{'s' if len(tenants) != 1 else ''} · " + " · ".join(
        parts
    )


COLUMNS = ("TENANT", "ENV", "SYNC", "HEALTH", "PODS", "RESTARTS", "VERSION", "S3", "REASON")


def _cells(t: TenantState) -> list[Text]:
    rec = tenant_record(t)
    version = rec["version"] or ("pending" if t.web is None and t.in_repo else "-")
    if rec["maintenance"]:
        version += " (maint.)"
    return [
        Text(t.name),
        Text(t.environment or "-"),
        Text(rec["sync"] or "-"),
        Text(f"{SYMBOL[t.health]} {t.health.value}", style=STYLE[t.health]),
        Text(f"{rec['pods_ready']}/{rec['pods_desired']}"),
        Text(str(rec["restarts"])),
        Text(version),
        Text(rec["s3"] or ("pending" if t.in_repo else "-")),
        Text("; ".join(filter(None, [t.reason, *t.drift]))),
    ]


def fleet_tables(tenants: list[TenantState]) -> list[Text | Table]:
    """A title line and a table per wave, canary first; columns line up across waves."""
    rows = {t.name: _cells(t) for t in tenants}
    widths = [
        max([len(header), *(len(cells[i].plain) for cells in rows.values())])
        for i, header in enumerate(COLUMNS)
    ]
    out: list[Text | Table] = []
    waves = sorted({t.wave for t in tenants}, key=lambda w: (w is None, w or 0))
    for index, wave in enumerate(waves):
        members = [t for t in tenants if t.wave == wave]
        out.append(Text(_wave_title(wave, members), style="bold"))
        table = Table(box=None, header_style="bold", pad_edge=False, show_header=index == 0)
        for i, header in enumerate(COLUMNS):
            last = i == len(COLUMNS) - 1
            table.add_column(
                header,
                no_wrap=not last,
                overflow="fold" if last else "ellipsis",
                min_width=None if last else widths[i],
            )
        for t in members:
            table.add_row(*rows[t.name])
        out.append(table)
    return out


def _platform_line(snapshot: FleetSnapshot) -> Text:
    platform = snapshot.platform
    parts = []
    for label, view in (("redis", platform.redis), ("pgbouncer", platform.pgbouncer)):
        if view is None:
            parts.append(f"{label} ? not found")
        else:
            ok = view.ready_replicas >= view.replicas > 0
            parts.append(f"{label} {'✓' if ok else '✗'} {view.ready_replicas}/{view.replicas}")
    ready = platform.secret_store_ready
    symbol = {True: "✓", False: "✗", None: "?"}[ready]
    word = "ready" if ready else (platform.secret_store_message or "not ready")
    parts.append(f"secret store {symbol} {word}")
    return Text("platform: " + " · ".join(parts))


@click.command("status")
@click.option("--wave", type=WAVE, default=None, help="Only the tenants of this wave.")
@format_option("table", "json")
@repo_option
@cluster_options
@with_settings
def status(settings: Settings, wave: int | None, output_format: str) -> None:
    """Print the fleet once: health per tenant, grouped by wave; exit 1 if any is unhealthy."""
    snapshot = read_fleet(settings)
    tenants = [t for t in snapshot.tenants if wave is None or t.wave == wave]
    if wave is not None and not tenants:
        known = ", ".join(str(w) for w in snapshot.waves() if w is not None) or "none"
        raise NcConsoleError(f"wave {wave}: no tenants in it (waves: {known})")
    if output_format == "json":
        click.echo(json.dumps(snapshot_record(snapshot, tenants), indent=2))
    else:
        console = Console(highlight=False)
        console.print(
            Text(f"context {snapshot.context} · {snapshot.cluster} · repo {snapshot.repo}")
        )
        console.print(_platform_line(snapshot))
        for kind, state in sorted(snapshot.kinds.items()):
            if state.status in (KindStatus.FORBIDDEN, KindStatus.ERROR, KindStatus.UNAUTHORIZED):
                console.print(Text(f"warning: {kind}: {state.status.value} {state.message}"))
        for problem in (*snapshot.repo_problems, snapshot.smoke_problem):
            if problem:
                console.print(Text(f"warning: {problem}"))
        if not snapshot.api_reachable:
            console.print(Text(f"warning: API unreachable — {snapshot.api_error}"))
        for part in fleet_tables(tenants):
            console.print(part)
    if any(t.health is not Health.HEALTHY for t in tenants):
        raise click.exceptions.Exit(1)


COMMANDS = [status]
