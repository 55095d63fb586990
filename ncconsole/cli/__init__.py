"""The scriptable command line: every console action as a subcommand, exit codes as the API."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ncconsole import __version__
from ncconsole.cli.options import ROOT_SETTINGS, cluster_options, repo_option, run_guarded
from ncconsole.settings import load_settings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ncconsole")
@click.option(
    "--profile",
    default=None,
    help="Named profile from the config file (its context, repo, web/s3 settings); every "
    "command uses it. Default: NCCONSOLE_PROFILE, else the file's 'profile:'.",
)
@click.option(
    "--read-only",
    is_flag=True,
    default=False,
    help="Refuse every state-changing action, in the console and in every command.",
)
@repo_option
@cluster_options
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    read_only: bool,
    repo: Path | None,
    context: str | None,
    kubeconfig: Path | None,
) -> None:
    """Operate a multi-tenant Nextcloud platform on Kubernetes and Argo CD.

    Without a subcommand, opens the console on the current kube context and --repo.
    """
    given = {
        key: value
        for key, value in (("repo", repo), ("context", context), ("kubeconfig", kubeconfig))
        if value is not None
    }
    # Read by every subcommand's settings (options.with_settings), whatever flags it has.
    ctx.meta[ROOT_SETTINGS] = {"profile": profile, "read_only": True if read_only else None}
    if ctx.invoked_subcommand is None:
        from ncconsole.cli.console import open_console

        code = open_console(
            load_settings(**given, **ctx.meta[ROOT_SETTINGS]), given | {"read_only": read_only}
        )
        if code:
            raise click.exceptions.Exit(code)
    elif given:
        # `ncconsole --repo X <command>` means the same as `ncconsole <command> --repo X`.
        ctx.default_map = {name: dict(given) for name in cli.list_commands(ctx)}


def _register() -> None:
    from ncconsole.cli import (
        audit,
        fix,
        inspect,
        logs,
        occ,
        platform,
        repo,
        secret,
        sim,
        smoke,
        status,
        wave,
    )

    for module in (
        repo, secret, occ, smoke, audit, status, platform, wave, logs, inspect, fix, sim,
    ):  # fmt: skip
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_guarded(cli, argv))
