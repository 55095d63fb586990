"""`ncconsole audit`: what was done from this machine, newest last."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from rich.table import Table
from rich.text import Text

from ncconsole.cli.options import DurationParam, format_option, warn
from ncconsole.cli.tables import print_table
from ncconsole.durations import DurationRange, format_seconds
from ncconsole.ops.audit import load_audit
from ncconsole.render.cells import local_time

# From a second to ten years back.
SINCE = DurationRange(1, 3650 * 86400)


@click.command("audit")
@click.option("--since", type=DurationParam(SINCE), default=None,
              help="Only actions started within DURATION (30m, 2h, 7d).")  # fmt: skip
@format_option("table", "json", "tsv")
def audit_command(since: float | None, output_format: str) -> int:
    """Show the audit trail of this machine's console actions (newest last)."""
    trail = load_audit(since=timedelta(seconds=since) if since else None)
    entries = trail.entries
    warn(trail.problem())
    if output_format == "json":
        click.echo(json.dumps(entries, indent=2))
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("START", "WHO", "ACTION", "RESULT", "EXIT"):
        table.add_column(column, no_wrap=True)
    table.add_column("TARGET", overflow="fold", ratio=1)
    table.add_column("MESSAGE", overflow="fold", ratio=1)
    for entry in entries:
        who = entry.get("who") or {}
        user = who.get("cluster_user") or who.get("os_user", "?")
        result = str(entry.get("result", ""))
        style = "green" if result in ("ok", "dry-run") else "red"
        code = entry.get("exit_code")
        table.add_row(
            Text(local_time(entry.get("start"))), Text(str(user)),
            Text(str(entry.get("action", ""))),
            Text(result, style=style), Text("" if code is None else str(code)),
            Text(str(entry.get("target", ""))), Text(str(entry.get("message", ""))),
        )  # fmt: skip
    if not entries:
        click.echo(
            "no audited actions" + (f" in the last {format_seconds(since)}" if since else "")
        )
    else:
        print_table(table, output_format)
    return 0


COMMANDS = [audit_command]
