"""`ncconsole smoke`: smoke checks for tenants, as text, JSON or JUnit XML (for CI).

Exit codes: 0 no check failed, 1 at least one failed, 2 bad input or the cluster unreadable.
"""

from __future__ import annotations

import json
import time
from xml.etree import ElementTree as ET

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ncconsole.cli.fleet_reading import start_fleet
from ncconsole.cli.options import (
    TENANT,
    WAVE,
    CountParam,
    cluster_options,
    format_option,
    repo_option,
    warn,
    with_settings,
)
from ncconsole.cli.tables import stdout_console
from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.ops.smoke import FAIL, PASS, SKIP, WARN, SmokeReport, run_smoke_checks
from ncconsole.ops.targets import select_tenants
from ncconsole.settings import CONCURRENCY, Settings

STYLE = {PASS: "green", WARN: "yellow", FAIL: "red", SKIP: "dim"}
SYMBOL = {PASS: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}


def junit(reports: list[SmokeReport]) -> str:
    suites = ET.Element("testsuites", name="ncconsole smoke")
    for report in reports:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.tenant,
            tests=str(len(report.checks)),
            failures=str(sum(c.status == FAIL for c in report.checks)),
            skipped=str(sum(c.status == SKIP for c in report.checks)),
            timestamp=report.started.isoformat(timespec="seconds"),
        )
        for check in report.checks:
            case = ET.SubElement(
                suite, "testcase", classname=report.tenant, name=check.name,
                time=f"{check.duration:.3f}",
            )  # fmt: skip
            if check.status == FAIL:
                ET.SubElement(case, "failure", message=check.message).text = check.message
            elif check.status == SKIP:
                ET.SubElement(case, "skipped", message=check.message)
            elif check.status == WARN:
                ET.SubElement(case, "system-out").text = f"warning: {check.message}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def text_report(console: Console, report: SmokeReport) -> None:
    status = report.status
    headline = Text(f"{SYMBOL[status]} {report.tenant}  {status.upper()}", style=STYLE[status])
    if status in (FAIL, WARN):
        headline.append(f"  {report.summary}")
    console.print(headline)
    table = Table(box=None, show_header=False, padding=(0, 1, 0, 0))
    table.add_column(min_width=7, no_wrap=True)
    table.add_column(min_width=10, no_wrap=True)
    table.add_column(min_width=6, no_wrap=True, justify="right")
    table.add_column(ratio=1, overflow="fold")
    for check in report.checks:
        table.add_row(
            Text(f"   {check.status}", style=STYLE[check.status]), Text(check.name),
            Text(f"{check.duration:.2f}s", style="dim"), Text(check.message),
        )  # fmt: skip
    console.print(table)


@click.command("smoke")
@click.argument("tenants", nargs=-1, type=TENANT)
@click.option("--wave", type=WAVE, default=None, help="Check every tenant of wave N.")
@click.option("--all", "everyone", is_flag=True, help="Check every tenant.")
@click.option(
    "--concurrency",
    type=CountParam(*CONCURRENCY),
    default=8,
    show_default=True,
    help="Tenants at a time.",
)
@format_option("text", "json", "junit")
@repo_option
@cluster_options
@with_settings
def smoke_command(
    settings: Settings,
    tenants: tuple[str, ...],
    wave: int | None,
    everyone: bool,
    concurrency: int,
    output_format: str,
) -> int:
    """Smoke-check TENANTS (or --wave N / --all): Argo CD, pods, status.php, occ, bucket,
    Secret, TLS. Exit 1 when any check failed."""
    chosen = [t.name for t in select_tenants(settings, tenants, wave, everyone)]
    fleet, snapshot = start_fleet(settings, probes=False)
    record = SmokeRecord()
    try:
        states = [s for name in chosen if (s := snapshot.tenant(name)) is not None]
        assert fleet.connection is not None
        console = stdout_console(soft_wrap=False)
        started = time.monotonic()
        reports = run_smoke_checks(
            fleet.connection, settings, states, concurrency=concurrency, record=record
        )
    finally:
        fleet.stop()
    warn(record.problem)
    if output_format == "json":
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
    elif output_format == "junit":
        click.echo(junit(reports))
    else:
        for report in reports:
            text_report(console, report)
        failed = sum(r.failed for r in reports)
        console.print(
            f"{len(reports)} tenant(s) checked in {time.monotonic() - started:.1f}s: "
            f"{failed} failed"
        )
    return 1 if any(r.failed for r in reports) else 0


COMMANDS = [smoke_command]
