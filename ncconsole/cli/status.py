"""`ncconsole status`: the fleet rows once, for scripts and for people without a TUI. The
rows and the JSON records come from render/, like the console's: this module only reads the
fleet, prints and sets the exit code.

The shared platform is read with the fleet (PgBouncer, Redis, Alertmanager, certificates, as
`ncconsole platform` reads them): its findings are in the tenants' health and reason, its
components' line is printed under the platform line, and the JSON embeds its record.

Exit codes: 0 every shown tenant is healthy, 1 at least one is not or a platform component has
a problem (PgBouncer saturated, Redis full: it hurts tenants now), 2 the fleet could not be read
(bad kubeconfig, API unreachable). A component that cannot be read is reported, in the table
and the JSON, without changing the exit code; `ncconsole platform` exits 1 for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

import click
from rich.table import Table
from rich.text import Text

from ncconsole.cli.fleet_reading import start_fleet
from ncconsole.cli.options import (
    WAVE,
    DurationParam,
    cluster_options,
    format_option,
    repo_option,
    with_settings,
)
from ncconsole.cli.tables import print_lines, print_tsv, stdout_console
from ncconsole.durations import DurationRange
from ncconsole.errors import NcConsoleError
from ncconsole.fleet.health import with_pending_probes
from ncconsole.fleet.model import FleetSnapshot, Health, KindStatus
from ncconsole.ops.platform import DEADLINE_MARGIN
from ncconsole.platform.model import Verdict
from ncconsole.render.access import access_lines
from ncconsole.render.fleet_rows import (
    measure,
    project,
    tenant_cells,
    wave_groups,
    whole_columns,
)
from ncconsole.render.layout import KEYS, fit_columns
from ncconsole.render.platform import platform_line
from ncconsole.render.platform_states import components_line
from ncconsole.render.records import snapshot_record
from ncconsole.settings import Settings

# How long `status` waits at most for every tenant's first status.php and S3 answer.
PROBE_WAIT = DurationRange(1, 3600)
POLL = 0.05


def _probed(snapshot: FleetSnapshot) -> int:
    """First answers in so far: status.php and S3 of every tenant in the repo."""
    return sum((t.web is not None) + (t.s3 is not None) for t in snapshot.tenants if t.in_repo)


def _wanted(snapshot: FleetSnapshot) -> int:
    return 2 * sum(1 for t in snapshot.tenants if t.in_repo)


def platform_wait(settings: Settings) -> float:
    """How long one reading of the shared platform may take: every component has its
    deadline (ops/platform.py)."""
    platform = settings.platform
    components = (platform.pgbouncer, platform.redis, platform.alertmanager)
    return max(c.timeout for c in components) + DEADLINE_MARGIN + 1.0


def read_fleet(settings: Settings, probe_wait: float = 120.0) -> FleetSnapshot:
    """Start watching, wait for the lists, every tenant's first probes and one platform
    reading, stop; the snapshot, with tenants still unprobed marked pending
    (fleet/health.with_pending_probes).

    The probes' wait ends when every tenant is probed, when no new answer came for one probe
    timeout (+5 s), or after `probe_wait` s: at 2,000 tenants the first round takes a while,
    and a tenant nobody has probed must not print healthy. The platform's ends with its first
    reading or its components' deadlines."""
    fleet, _ = start_fleet(settings, probes=True, platform=True)
    quiet = max(settings.web.timeout, settings.s3.timeout) + 5.0
    started = time.monotonic()
    deadline = started + probe_wait
    platform_deadline = started + platform_wait(settings)
    try:
        answered, progress_at = -1, started
        while True:
            snapshot = fleet.snapshot
            now = time.monotonic()
            probed = _probed(snapshot)
            if probed != answered:
                answered, progress_at = probed, now
            probes_over = (
                (snapshot.complete and probed == _wanted(snapshot))
                or now >= deadline
                or now - progress_at > quiet
            )
            platform_read = snapshot.platform_reading is not None
            if probes_over and (platform_read or now >= platform_deadline):
                break
            # Looked at every POLL s, not at every snapshot: while 4,000 first answers come
            # in, a look over every tenant per snapshot took a fifth of the CPU the probes
            # needed (benchmarks/RESULTS.md).
            until = deadline if not probes_over else platform_deadline
            time.sleep(min(POLL, max(0.01, until - now)))
    finally:
        fleet.stop()
    return replace(snapshot, tenants=tuple(with_pending_probes(t) for t in snapshot.tenants))


def fleet_tables(snapshot: FleetSnapshot, now: datetime, width: int | None) -> list[Text | Table]:
    """Per wave (canary first) its line and a table of its tenants: the console's fleet rows
    and columns, fitted to `width` like the console's, or every column whole (None)."""
    widths = measure(snapshot, now)
    layout = whole_columns(snapshot, now) if width is None else fit_columns(width, widths)
    out: list[Text | Table] = []
    for index, group in enumerate(wave_groups(snapshot)):
        out.append(group.summary)
        table = Table(
            box=None, header_style="bold", pad_edge=False, padding=0, show_header=index == 0
        )
        for column in layout:
            table.add_column(column.label, no_wrap=True, width=column.width)
        for t in group.tenants:
            table.add_row(*project(tenant_cells(t, now), layout))
        out.append(table)
    return out


@click.command("status")
@click.option("--wave", type=WAVE, default=None, help="Only the tenants of this wave.")
@click.option(
    "--probe-wait", type=DurationParam(PROBE_WAIT), default="2m", show_default=True,
    help="At most this long for every tenant's first status.php and S3 answer "
    "(tenants still unprobed then are 'pending').",
)  # fmt: skip
@format_option("table", "json", "tsv")
@repo_option
@cluster_options
@with_settings
def status(settings: Settings, wave: int | None, probe_wait: float, output_format: str) -> None:
    """Print the fleet once: health per tenant, grouped by wave; exit 1 if any is not
    healthy (pending - not probed yet - included)."""
    snapshot = read_fleet(settings, probe_wait)
    tenants = [t for t in snapshot.tenants if wave is None or t.wave == wave]
    if wave is not None and not tenants:
        known = ", ".join(str(w) for w in snapshot.waves() if w is not None) or "none"
        raise NcConsoleError(f"wave {wave}: no tenants in it (waves: {known})")
    shown = replace(snapshot, tenants=tuple(tenants))
    if output_format == "json":
        click.echo(json.dumps(snapshot_record(snapshot, tenants), indent=2))
    elif output_format == "tsv":
        # One table, the wave as a column: what `cut`/`awk` want; warnings go to --format json.
        now = datetime.now(UTC)
        layout = [c for c in whole_columns(shown, now) if c.key != "wave"]
        keys = [c.key for c in layout]
        rows = [
            ["" if group.wave is None else group.wave,
             *(cell for key, cell in zip(KEYS, tenant_cells(t, now), strict=True) if key in keys)]
            for group in wave_groups(shown)
            for t in group.tenants
        ]  # fmt: skip
        print_tsv(["WAVE", *(column.label for column in layout)], rows)
    else:
        console = stdout_console(highlight=False)
        console.print(
            Text(f"context {snapshot.context} · {snapshot.cluster} · repo {snapshot.repo}")
        )
        console.print(platform_line(snapshot.platform))
        components = components_line(snapshot.platform_reading, datetime.now(UTC))
        if components.plain:
            console.print(components)
        for kind, state in sorted(snapshot.kinds.items()):
            if state.status in (KindStatus.ERROR, KindStatus.UNAUTHORIZED):
                console.print(Text(f"warning: {kind}: {state.status.value} {state.message}"))
        for line in access_lines(snapshot):  # one line each, for grep
            console.print(Text(f"warning: {line}"), soft_wrap=True)
        pending = sum(1 for t in tenants if t.health is Health.PENDING)
        if pending:
            console.print(
                Text(f"warning: {pending} tenant(s) pending: not probed within the wait"),
                soft_wrap=True,
            )
        for problem in (*snapshot.repo_problems, snapshot.smoke_problem):
            if problem:
                console.print(Text(f"warning: {problem}"))
        if not snapshot.api_reachable:
            console.print(Text(f"warning: API unreachable — {snapshot.api_error}"))
        width = console.width if console.is_terminal else None
        print_lines(console, fleet_tables(shown, datetime.now(UTC), width))
    reading = snapshot.platform_reading
    if any(t.health is not Health.HEALTHY for t in tenants) or (
        reading is not None and reading.verdict is Verdict.PROBLEM
    ):
        raise click.exceptions.Exit(1)


COMMANDS = [status]
