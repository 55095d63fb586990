"""Subcommands on the GitOps repository: validate, tenants, new-tenant."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from ncconsole.cli.options import TENANT, WAVE, format_option, repo_option, with_settings
from ncconsole.cli.tables import print_table
from ncconsole.gitops import (
    RULES,
    Finding,
    Repo,
    TenantRejected,
    create_tenant,
    has_errors,
    load_repo,
    validate,
)
from ncconsole.settings import Settings


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(findings: list[Finding], repo: Repo) -> str:
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    files = _plural(len(repo.tenant_files), "tenant file")
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {files}"


def _print_rules(output_format: str) -> None:
    rules = [
        {"rule": rule, "severity": severity, "checks": checks}
        for rule, (severity, checks) in RULES.items()
    ]
    if output_format == "json":
        click.echo(json.dumps(rules, indent=2))
        return
    width = max(len(rule) for rule in RULES)
    for item in rules:
        click.echo(f"{item['rule']:<{width}}  {item['severity']:<7}  {item['checks']}")


@click.command("validate")
@repo_option
@format_option("text", "json")
@click.option("--list-rules", is_flag=True, help="List the rule ids and what each checks.")
@with_settings
def validate_command(settings: Settings, output_format: str, list_rules: bool) -> None:
    """Check the GitOps repository: one line per finding, exit 1 when there are errors.

    Each line reads `path:line: severity rule-id: message`; exit 0 when there are only
    warnings, 2 when the repository cannot be read.
    """
    if list_rules:
        _print_rules(output_format)
        return
    repo = load_repo(settings.repo)
    findings = validate(repo, settings)
    if output_format == "json":
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(finding.as_text())
        click.echo(_summary(findings, repo))
    if has_errors(findings):
        raise click.exceptions.Exit(1)


def _tenant_rows(repo: Repo, settings: Settings, wave: int | None) -> list[dict[str, Any]]:
    return [
        {
            "wave": tenant.wave,
            "name": tenant.name,
            "environment": tenant.environment,
            "hostname": tenant.hostname,
            "bucket": tenant.bucket,
            "namespace": settings.namespace_for(tenant.name),
            "application": settings.app_name_for(tenant.name),
        }
        for tenant in repo.tenants  # already in rollout order: wave, then name
        if wave is None or tenant.wave == wave
    ]


def _tenant_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("wave", "name", "environment", "hostname", "bucket", "namespace", "application"):
        table.add_column(column.upper(), justify="right" if column == "wave" else "left")
    previous: int | None = None
    for row in rows:
        if previous is not None and row["wave"] != previous:
            table.add_section()
        previous = row["wave"]
        wave = f"{row['wave']} canary" if row["wave"] == 0 else str(row["wave"])
        table.add_row(wave, *(str(row[key]) for key in list(row)[1:]))
    return table


@click.command("tenants")
@repo_option
@click.option("--wave", type=WAVE, default=None, help="Only this wave.")
@format_option("table", "json", "tsv")
@with_settings
def tenants_command(settings: Settings, wave: int | None, output_format: str) -> None:
    """List tenants by wave, canary first, with their namespace and Application."""
    repo = load_repo(settings.repo)
    rows = _tenant_rows(repo, settings, wave)
    findings = validate(repo, settings)
    if has_errors(findings):
        errors = sum(1 for f in findings if f.is_error)
        click.echo(
            f"ncconsole: warning: the repository has {_plural(errors, 'error')}; "
            f"tenants with broken files may be missing; run `ncconsole validate` for details",
            err=True,
        )
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no tenants" + (f" in wave {wave}" if wave is not None else ""), err=True)
    else:
        print_table(_tenant_table(rows), output_format)


@click.command("new-tenant")
@click.argument("name", type=TENANT)
@click.option("--wave", type=WAVE, required=True, help="Rollout wave (0 = canary).")
@click.option("--hostname", required=True, help="The tenant's FQDN.")
@click.option("--environment", default=None, help="Default: the environment most tenants use.")
@click.option("--bucket", default=None, help="S3 bucket (default: nextcloud-NAME).")
@repo_option
@with_settings
def new_tenant_command(
    settings: Settings,
    name: str,
    wave: int,
    hostname: str,
    environment: str | None,
    bucket: str | None,
) -> None:
    """Write values/tenants/tenant-NAME.yaml, only if the repository stays valid with it."""
    try:
        created = create_tenant(
            settings.repo,
            settings,
            name=name,
            wave=wave,
            hostname=hostname,
            environment=environment,
            bucket=bucket,
        )
    except TenantRejected as err:
        for finding in err.findings:
            click.echo(finding.as_text(), err=True)
        raise
    if created.existing_errors:
        click.echo(
            f"ncconsole: warning: the repository already had "
            f"{_plural(len(created.existing_errors), 'error')}; run `ncconsole validate`",
            err=True,
        )
    click.echo(f"wrote {created.path}")
    click.echo(
        f"next: commit and push {created.rel}, then create the tenant's secrets with "
        f"`ncconsole secret create {name}`"
    )


COMMANDS: list[click.Command] = [validate_command, tenants_command, new_tenant_command]
