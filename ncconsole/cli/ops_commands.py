"""`ncconsole secret|occ|smoke|audit`: tenant actions from the command line.

Confirmation: state-changing actions ask on a terminal and need --yes otherwise.
Exit codes: 0 done, 1 the action ran and failed (occ's own code for a single occ run),
2 refused or bad input, 124 occ timed out, 130 interrupted.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ncconsole.cli.common import cluster_options, format_option, repo_option, with_settings
from ncconsole.cli.smoke_command import smoke_command
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.ops.audit import Auditor, parse_duration, read_audit
from ncconsole.ops.guard import is_read_only_occ
from ncconsole.ops.occ import OccRun, run_occ, run_occ_fleet
from ncconsole.ops.secrets import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    SecretRequest,
    SecretResult,
    create_tenant_secret,
    rotate_secret_keys,
)
from ncconsole.ops.targets import select_tenants
from ncconsole.settings import Settings

TIMEOUT_EXIT = 124


def read_only_option(func: Any) -> Any:
    return click.option(
        "--read-only", is_flag=True, default=False, help="Refuse every state-changing action."
    )(func)


def common_options(func: Any) -> Any:
    return repo_option(cluster_options(read_only_option(func)))


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirmer(yes: bool) -> Any:
    """A confirm(question) callback: --yes agrees, a terminal asks, otherwise no."""

    def confirm(question: str) -> bool:
        if yes:
            return True
        return _interactive() and click.confirm(question, default=False, err=True)

    return confirm


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the action like Ctrl-C does, so it is audited as interrupted."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _session(settings: Settings) -> tuple[KubeConnection, Auditor]:
    conn = connect(settings)
    return conn, Auditor(settings, conn)


def _warn(text: str) -> None:
    if text:
        click.echo(f"ncconsole: warning: {text}", err=True)


# -- secret ---------------------------------------------------------------------------------


@click.group("secret")
@click.pass_context
def secret_group(ctx: click.Context) -> None:
    """Create or rotate a tenant's Secret (nextcloud-secrets)."""
    if ctx.default_map:
        # `ncconsole --kubeconfig K secret create` hands the group flat defaults; pass them on.
        flat = dict(ctx.default_map)
        ctx.default_map = {name: flat for name in ("create", "rotate")}


def _secret_report(result: SecretResult, output_format: str, verb: str) -> None:
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "tenant": result.tenant,
                    "namespace": result.namespace,
                    "kind": result.kind,
                    "name": result.name,
                    "dry_run": result.dry_run,
                    "namespace_created": result.namespace_created,
                    "keys": list(result.keys),
                    "ready": result.ready,
                    "message": result.message,
                    "object": result.masked_object if result.dry_run else None,
                },
                indent=2,
            )
        )
    elif result.dry_run:
        click.echo(f"Dry run (server-side): {result.kind} {result.namespace}/{result.name}")
        if result.message:
            click.echo(result.message)
        click.echo(json.dumps(result.masked_object, indent=2))
    else:
        if result.namespace_created:
            click.echo(f"Created namespace {result.namespace}")
        click.echo(
            f"{verb} {result.kind} {result.namespace}/{result.name} ({', '.join(result.keys)})"
        )
        if result.ready is not None:
            click.echo(result.message if result.ready else f"NOT READY: {result.message}")
    _warn(result.event_problem)


@secret_group.command("create")
@click.argument("tenant")
@click.option(
    "--mode",
    type=click.Choice(["generate", "external-secrets"]),
    default="generate",
    show_default=True,
    help="generate: a Secret with random values; external-secrets: an ExternalSecret.",
)
@click.option("--s3-access-key", default=None, help=f"Tenant S3 access key (or ${ACCESS_KEY_ENV}).")
@click.option("--s3-secret-key", default=None, help=f"Tenant S3 secret key (or ${SECRET_KEY_ENV}).")
@click.option("--dry-run", is_flag=True, help="Ask the API server (dryRun=All); store nothing.")
@click.option("--yes", is_flag=True, help="Create the namespace if missing without asking.")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the ExternalSecret to be Ready.")  # fmt: skip
@format_option("text", "json")
@common_options
@with_settings
def secret_create(
    settings: Settings,
    tenant: str,
    mode: str,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    dry_run: bool,
    yes: bool,
    timeout: float,
    output_format: str,
) -> int:
    """Create Secret nextcloud-secrets for TENANT; an existing one is never overwritten.

    S3 keys come from the flags or NCCONSOLE_S3_ACCESS_KEY / NCCONSOLE_S3_SECRET_KEY.
    """
    conn, auditor = _session(settings)
    request = SecretRequest(
        tenant, mode, s3_access_key, s3_secret_key, dry_run, create_namespace=yes,
        wait_timeout=timeout,
    )  # fmt: skip
    progress = (lambda line: click.echo(line, err=True)) if output_format == "text" else None
    with _sigterm_interrupts():
        result = create_tenant_secret(
            conn, settings, request, auditor=auditor, progress=progress, confirm=_confirmer(yes)
        )
    _secret_report(result, output_format, "Created")
    return 1 if result.ready is False else 0


@secret_group.command("rotate")
@click.argument("tenant")
@click.argument("keys", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Ask the API server (dryRun=All); store nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@format_option("text", "json")
@common_options
@with_settings
def secret_rotate(
    settings: Settings,
    tenant: str,
    keys: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    output_format: str,
) -> int:
    """Give KEYS of TENANT's Secret new random values; other keys stay as they are."""
    if not dry_run and not _confirmer(yes)(f"Rotate {', '.join(keys)} of tenant {tenant}?"):
        raise click.ClickException("not confirmed; pass --yes to rotate without a terminal")
    conn, auditor = _session(settings)
    with _sigterm_interrupts():
        result = rotate_secret_keys(conn, settings, tenant, keys, auditor=auditor, dry_run=dry_run)
    _secret_report(result, output_format, "Rotated keys of")
    return 0


# -- occ ------------------------------------------------------------------------------------


def _run_record(run: OccRun) -> dict[str, Any]:
    return {
        "tenant": run.tenant,
        "namespace": run.namespace,
        "pod": run.pod or None,
        "exit_code": run.exit_code,
        "duration": round(run.duration, 3),
        "timed_out": run.timed_out,
        "error": run.error or None,
        "stdout": run.stdout,
        "stderr": run.stderr,
    }


def _fleet_table(runs: list[OccRun], width: int) -> Table:
    # The first line is cut to what fits, so the other columns never get squeezed out.
    room = max(20, width - max((len(r.tenant) for r in runs), default=6) - 24)
    table = Table(box=None, header_style="bold")
    table.add_column("TENANT", no_wrap=True)
    table.add_column("EXIT", no_wrap=True, justify="right")
    table.add_column("DURATION", no_wrap=True, justify="right")
    table.add_column("FIRST LINE", no_wrap=True)
    for run in runs:
        code = "-" if run.exit_code is None else str(run.exit_code)
        style = "green" if run.ok else "red"
        line = run.first_line if len(run.first_line) <= room else run.first_line[: room - 1] + "…"
        table.add_row(
            Text(run.tenant), Text(code, style=style), Text(f"{run.duration:.1f}s"), Text(line)
        )
    return table


@click.command("occ", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option("--wave", type=int, default=None, help="Run on every tenant of wave N.")
@click.option("--all", "everyone", is_flag=True, help="Run on every tenant.")
@click.option("--yes", is_flag=True, help="Allow a state-changing occ command without asking.")
@click.option("--concurrency", type=int, default=None, help="Tenants at a time (fleet runs).")
@click.option("--timeout", type=float, default=None, help="Seconds per tenant (default: setting).")
@format_option("text", "json")
@common_options
@with_settings
def occ_command(
    settings: Settings,
    words: tuple[str, ...],
    wave: int | None,
    everyone: bool,
    yes: bool,
    concurrency: int | None,
    timeout: float | None,
    output_format: str,
) -> int:
    """Run occ: `ncconsole occ TENANT -- ARGS...` or `ncconsole occ --wave N|--all -- ARGS...`.

    The arguments go to occ as a list (never through a shell built from them). Commands that
    change state need --yes (or a yes on the terminal); --read-only allows only read commands.
    """
    fleet = wave is not None or everyone
    tenant, args = (None, list(words)) if fleet else (words[0] if words else None, list(words[1:]))
    if not fleet and not tenant:
        raise click.UsageError("name a TENANT (or --wave N / --all), then -- and occ's arguments")
    where = "every tenant" if everyone else f"wave {wave}" if fleet else f"tenant {tenant}"
    confirmed = yes
    if args and not is_read_only_occ(args) and not settings.read_only and not yes:
        confirmed = _confirmer(False)(f"occ {' '.join(args)} may change state on {where}. Run it?")
    conn, auditor = _session(settings)
    if not fleet:
        assert tenant is not None
        stream = output_format == "text"

        def echo(channel: str, text: str) -> None:
            click.echo(text, nl=False, err=channel == "stderr")

        with _sigterm_interrupts():
            run = run_occ(
                conn, settings, tenant, args, auditor=auditor, confirmed=confirmed,
                on_output=echo if stream else None, timeout=timeout,
            )  # fmt: skip
        if output_format == "json":
            click.echo(json.dumps(_run_record(run), indent=2))
        if run.timed_out:
            click.echo(f"ncconsole: occ timed out on tenant {tenant}", err=True)
            return TIMEOUT_EXIT
        return run.exit_code if run.exit_code is not None else 1
    names = [t.name for t in select_tenants(settings, wave=wave, everyone=everyone)]
    console = Console(stderr=True)

    def progress(run: OccRun) -> None:
        if output_format == "text" and console.is_terminal:
            console.print(
                f"{run.tenant}: exit {run.exit_code if run.exit_code is not None else '-'}"
            )

    with _sigterm_interrupts():
        runs = run_occ_fleet(
            conn, settings, names, args, auditor=auditor, confirmed=confirmed,
            concurrency=concurrency, on_result=progress, timeout=timeout,
        )  # fmt: skip
    if output_format == "json":
        click.echo(json.dumps([_run_record(r) for r in runs], indent=2))
    else:
        out = Console(soft_wrap=False)
        out.print(_fleet_table(runs, out.width))
    return 0 if all(r.ok for r in runs) else 1


# -- audit ----------------------------------------------------------------------------------


def _short_time(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%m-%d %H:%M:%S")
    except ValueError:
        return str(value or "")


@click.command("audit")
@click.option("--since", default=None, help="Only actions started within DURATION (30m, 2h, 7d).")
@format_option("table", "json")
def audit_command(since: str | None, output_format: str) -> int:
    """Show the audit trail of this machine's console actions (newest last)."""
    entries = read_audit(since=parse_duration(since) if since else None)
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
            Text(_short_time(entry.get("start"))), Text(user), Text(str(entry.get("action", ""))),
            Text(result, style=style), Text("" if code is None else str(code)),
            Text(str(entry.get("target", ""))), Text(str(entry.get("message", ""))),
        )  # fmt: skip
    if not entries:
        click.echo("no audited actions" + (f" in the last {since}" if since else ""))
    else:
        Console(soft_wrap=False).print(table)
    return 0


COMMANDS = [secret_group, occ_command, smoke_command, audit_command]
