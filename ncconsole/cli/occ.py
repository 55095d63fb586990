"""`ncconsole occ`: occ on one tenant, a wave or the fleet.

Confirmation: state-changing actions ask on a terminal and need --yes otherwise.
Exit codes: 0 done, 1 the action ran and failed (occ's own code for a single occ run),
2 refused or bad input, 124 occ timed out, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import shlex
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ncconsole.cli.options import (
    WAVE,
    CountParam,
    DurationParam,
    common_options,
    confirmer,
    format_option,
    report_audit_problems,
    sigterm_interrupts,
    with_settings,
)
from ncconsole.cli.tables import PIPED_WIDTH, print_table, stdout_console
from ncconsole.gitops.naming import tenant_name_problem
from ncconsole.ops.guard import is_read_only_occ, reads_secret
from ncconsole.ops.occ import OccRun, end_problem, run_occ, run_occ_fleet
from ncconsole.ops.occ_secrets import MASK, masked_args
from ncconsole.ops.session import open_cluster
from ncconsole.ops.targets import select_tenants
from ncconsole.settings import CONCURRENCY, OCC_TIMEOUT, Settings

TIMEOUT_EXIT = 124


def secret_values(names: tuple[str, ...]) -> list[str]:
    """The values of the environment variables named by --arg-from-env, in order."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise click.BadParameter(
            f"environment variable {', '.join(missing)} is not set or empty",
            param_hint="'--arg-from-env'",
        )
    return [os.environ[name] for name in names]


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


class OccCommand(click.Command):
    """Keeps what came after `--`: the words before it name the TENANT, those after it are
    occ's, so `occ alpha --wave 1 -- status` is refused instead of running `alpha status`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            ctx.meta[AFTER_DASHES] = list(args[args.index("--") + 1 :])
        return super().parse_args(ctx, args)


AFTER_DASHES = "ncconsole.occ.after_dashes"


def split_words(words: tuple[str, ...], fleet: bool) -> tuple[str | None, list[str]]:
    """(TENANT or None, occ's arguments) from the command's positional words."""
    after = click.get_current_context().meta.get(AFTER_DASHES)
    if after is None:  # no `--`: the first word is the tenant (unless --wave/--all)
        return (None, list(words)) if fleet else (words[0] if words else None, list(words[1:]))
    before = list(words[: len(words) - len(after)])
    if fleet and before:
        raise click.UsageError(
            f"TENANT {before[0]} and --wave/--all both choose tenants; give only one of them"
        )
    if len(before) > 1:
        raise click.UsageError(
            f"occ runs on one TENANT, got {' '.join(before)} before `--`; "
            "for many tenants use --wave N or --all"
        )
    return (before[0] if before else None), after


@click.command("occ", cls=OccCommand, context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option("--wave", type=WAVE, default=None, help="Run on every tenant of wave N.")
@click.option("--all", "everyone", is_flag=True, help="Run on every tenant.")
@click.option("--yes", is_flag=True, help="Allow a state-changing occ command without asking.")
@click.option("--arg-from-env", "env_args", multiple=True, metavar="VAR",
              help="Append the value of local environment variable VAR to occ's arguments, "
              "kept out of your shell history and the audit log (e.g. a password).")  # fmt: skip
@click.option("--concurrency", type=CountParam(*CONCURRENCY), default=None,
              help="Tenants at a time (fleet runs; default: setting occ.concurrency).")  # fmt: skip
@click.option("--timeout", type=DurationParam(OCC_TIMEOUT), default=None,
              help="Per tenant, e.g. 90s, 10m (default: setting occ.timeout).")  # fmt: skip
@format_option("text", "json", "tsv")
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
    env_args: tuple[str, ...] = (),
) -> int:
    """Run occ: `ncconsole occ TENANT -- ARGS...` or `ncconsole occ --wave N|--all -- ARGS...`.

    The arguments go to occ as a list (never through a shell built from them). Commands that
    change state need --yes (or a yes on the terminal); --read-only allows only read commands.
    """
    secret_args = secret_values(env_args)
    fleet = wave is not None or everyone
    tenant, args = split_words(words, fleet)
    if not fleet and not tenant:
        raise click.UsageError("name a TENANT (or --wave N / --all), then -- and occ's arguments")
    if tenant is not None and tenant_name_problem(tenant):
        raise click.BadParameter(f"'{tenant}' {tenant_name_problem(tenant)}", param_hint="TENANT")
    # Which tenants, from the repository: refused here, before the cluster is asked anything.
    names = (
        [t.name for t in select_tenants(settings, wave=wave, everyone=everyone)] if fleet else []
    )
    where = "every tenant" if everyone else f"wave {wave}" if fleet else f"tenant {tenant}"
    confirmed = yes
    if args and not is_read_only_occ(args) and not settings.read_only and not yes:
        effect = "prints a secret (shown masked)" if reads_secret(args) else "may change state"
        shown = shlex.join([*masked_args(args), *(MASK for _ in secret_args)])
        confirmed = confirmer(False)(f"occ {shown} {effect} on {where}. Run it?")
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    report_audit_problems(auditor)
    if not fleet:
        assert tenant is not None
        stream = output_format == "text"

        def echo(channel: str, text: str) -> None:
            click.echo(text, nl=False, err=channel == "stderr")

        with sigterm_interrupts():
            run = run_occ(
                conn, settings, tenant, args, auditor=auditor, confirmed=confirmed,
                on_output=echo if stream else None, timeout=timeout, secret_args=secret_args,
            )  # fmt: skip
        if output_format == "json":
            click.echo(json.dumps(_run_record(run), indent=2))
        if run.timed_out:
            click.echo(f"ncconsole: occ timed out on tenant {tenant}", err=True)
            return TIMEOUT_EXIT
        problem = end_problem(run)
        if problem:
            click.echo(f"ncconsole: occ on tenant {tenant}: {problem}", err=True)
        return run.exit_code if run.exit_code is not None else 1
    console = Console(stderr=True)

    def progress(run: OccRun) -> None:
        if output_format == "text" and console.is_terminal:
            console.print(
                f"{run.tenant}: exit {run.exit_code if run.exit_code is not None else '-'}"
            )

    with sigterm_interrupts():
        runs = run_occ_fleet(
            conn, settings, names, args, auditor=auditor, confirmed=confirmed,
            concurrency=concurrency, on_result=progress, timeout=timeout,
            secret_args=secret_args,
        )  # fmt: skip
    if output_format == "json":
        click.echo(json.dumps([_run_record(r) for r in runs], indent=2))
    elif output_format == "tsv":
        print_table(_fleet_table(runs, PIPED_WIDTH), "tsv")
    else:
        out = stdout_console(soft_wrap=False)
        out.print(_fleet_table(runs, out.width))
    return 0 if all(r.ok for r in runs) else 1


COMMANDS = [occ_command]
