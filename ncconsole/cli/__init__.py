"""The scriptable command line: every console action as a subcommand, exit codes as the API."""

from __future__ import annotations

import sys

import click

from ncconsole import __version__
from ncconsole.cli.common import run_guarded


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ncconsole")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Operate a multi-tenant Nextcloud platform on Kubernetes and Argo CD.

    Without a subcommand, opens the console on the current kube context and --repo.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _register() -> None:
    from ncconsole.cli import repo_commands

    for command in repo_commands.COMMANDS:
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_guarded(cli, argv))
