"""`ncconsole get|events|history|diff TENANT`: a tenant's objects as YAML or JSON, all of its
Events, its Argo CD sync history and what a sync (or a rollback, or a named revision) would
change in its values.

Secret values are never printed (keys and sizes only); managedFields only with
--managed-fields. Exit codes: 0 shown, 1 nothing to show (diff: the commit is not in the local
repository), 2 bad input or refused.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.syntax import Syntax
from rich.text import Text

from ncconsole.cli.options import (
    TENANT,
    CountParam,
    common_options,
    format_option,
    warn,
    with_settings,
)
from ncconsole.ops.history import tenant_diff, tenant_history
from ncconsole.ops.inspect import KINDS, clean, event_dict, tenant_events, tenant_objects, to_yaml
from ncconsole.ops.session import open_cluster
from ncconsole.render import cells as fmt
from ncconsole.render.describe import describe
from ncconsole.settings import Settings


def _console() -> Console:
    return Console(soft_wrap=True, highlight=False)


@click.command("get")
@click.argument("tenant", type=TENANT)
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("object_name", metavar="[NAME]", required=False, default="")
@click.option("-o", "--output", "output", type=click.Choice(("yaml", "json", "describe")),
              default="yaml", show_default=True)  # fmt: skip
@click.option("--managed-fields", is_flag=True, help="Keep metadata.managedFields.")
@common_options
@with_settings
def get_command(
    settings: Settings,
    tenant: str,
    kind: str,
    object_name: str,
    output: str,
    managed_fields: bool,
) -> int:
    """Show TENANT's pod(s), Deployment, Application or Secret (keys only) as YAML, JSON or
    a description."""
    conn = open_cluster(settings).conn
    objects = tenant_objects(conn, settings, tenant, kind, object_name)
    if output == "describe":
        events = tenant_events(conn, settings, tenant)
        click.echo("\n".join(describe(o.kind, clean(o.raw), events) for o in objects), nl=False)
        return 0
    shown = [clean(o.raw, managed_fields=managed_fields) for o in objects]
    doc = shown[0] if len(shown) == 1 else {"apiVersion": "v1", "kind": "List", "items": shown}
    if output == "json":
        click.echo(json.dumps(doc, indent=2))
    elif sys.stdout.isatty():
        _console().print(
            Syntax(to_yaml(doc), "yaml", theme="ansi_dark", background_color="default")
        )
    else:
        click.echo(to_yaml(doc), nl=False)
    return 0


@click.command("events")
@click.argument("tenant", type=TENANT)
@click.option("--warnings", is_flag=True, help="Only Warning events.")
@format_option("text", "json")
@common_options
@with_settings
def events_command(settings: Settings, tenant: str, warnings: bool, output_format: str) -> int:
    """Every Event of TENANT (its namespace's and its Application's), newest first."""
    events = tenant_events(open_cluster(settings).conn, settings, tenant)
    if warnings:
        events = [e for e in events if e.type == "Warning"]
    if output_format == "json":
        click.echo(json.dumps([event_dict(e) for e in events], indent=2))
        return 0
    if not events:
        click.echo(f"no events for {tenant}")
        return 0
    now = datetime.now(UTC)
    console = _console()
    for event in events:
        line = Text(f"{fmt.age(now, event.last_seen):>5} ")
        line.append(f"{event.type:<8}", style="yellow" if event.type == "Warning" else "")
        line.append(f" {event.reason} {event.involved_kind.lower()}/{event.involved_name}")
        line.append(f" x{event.count}" if event.count > 1 else "")
        line.append(f": {event.message}", style="yellow" if event.type == "Warning" else "")
        console.print(line)
    return 0


@click.command("history")
@click.argument("tenant", type=TENANT)
@format_option("text", "json")
@common_options
@with_settings
def history_command(settings: Settings, tenant: str, output_format: str) -> int:
    """TENANT's Argo CD sync history, newest first: id, deployed at, chart version and
    commit, who initiated it. `ncconsole rollback TENANT --to ID` goes back to one."""
    entries = tenant_history(open_cluster(settings).conn, settings, tenant)
    if output_format == "json":
        click.echo(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    if not entries:
        click.echo(f"{tenant}: no sync history (never synced)")
        return 0
    click.echo(f"{'ID':>4}  {'DEPLOYED AT':<20}  {'REVISION':<18}  INITIATED BY")
    for entry in entries:
        when = f"{entry.deployed_at:%Y-%m-%d %H:%M:%S}Z" if entry.deployed_at else "?"
        mark = "  (deployed now)" if entry.current else ""
        click.echo(
            f"{entry.id:>4}  {when:<20}  {entry.revisions.short():<18}  {entry.initiated_by}{mark}"
        )
    return 0


@click.command("diff")
@click.argument("tenant", type=TENANT)
@click.option("--revision", default="", help="Compare with this commit, branch or tag "
              "(default: what a sync would bring, the Application's target).")  # fmt: skip
@click.option("--to", "history_id", type=CountParam(0, 2**31 - 1), default=None,
              help="Compare with this history id (what a rollback would bring back).")  # fmt: skip
@format_option("text", "json")
@common_options
@with_settings
def diff_command(
    settings: Settings, tenant: str, revision: str, history_id: int | None, output_format: str
) -> int:
    """What changes for TENANT between what is deployed and a target: the chart version and
    its values files (common, environment, tenant) as a unified diff, from the local repo."""
    if revision and history_id is not None:
        raise click.UsageError("give --revision or --to, not both")
    diff = tenant_diff(
        open_cluster(settings).conn, settings, tenant, revision=revision, history_id=history_id
    )
    if output_format == "json":
        click.echo(json.dumps(diff.as_dict(), indent=2))
        return 1 if diff.problem and diff.problem.startswith("commit") else 0
    if diff.problem:
        warn(diff.problem)
        return 1 if diff.problem.startswith("commit") else 0
    click.echo(f"{tenant}: {diff.summary()}")
    text = diff.unified()
    if text and sys.stdout.isatty():
        _console().print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
    elif text:
        click.echo(text, nl=False)
    return 0


COMMANDS = [get_command, events_command, history_command, diff_command]
