"""`ncconsole secret create|rotate`: a tenant's Secret, never overwritten, values never shown."""

from __future__ import annotations

import json
import os

import click

from ncconsole.cli.options import (
    TENANT,
    DurationParam,
    common_options,
    confirmer,
    format_option,
    report_audit_problems,
    sigterm_interrupts,
    with_settings,
)
from ncconsole.durations import DurationRange
from ncconsole.ops.secret_rotation import SERVER_PASSWORDS, rotate_secret_keys
from ncconsole.ops.secrets import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    SecretRequest,
    SecretResult,
    create_tenant_secret,
)
from ncconsole.ops.session import open_cluster
from ncconsole.ops.targets import require_in_repo
from ncconsole.settings import Settings

EXTERNAL_SECRET_WAIT = DurationRange(1, 3600)


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
                    "notes": list(result.notes),
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
        for note in result.notes:
            click.echo(f"  {note}")


@secret_group.command("create")
@click.argument("tenant", type=TENANT)
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
@click.option("--not-in-repo", is_flag=True,
              help="Create it although the repository lists no such tenant.")  # fmt: skip
@click.option("--timeout", type=DurationParam(EXTERNAL_SECRET_WAIT), default="60s",
              show_default=True, help="How long to wait for the ExternalSecret.")  # fmt: skip
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
    not_in_repo: bool = False,
) -> int:
    """Create Secret nextcloud-secrets for TENANT; an existing one is never overwritten.

    S3 keys come from the flags or NCCONSOLE_S3_ACCESS_KEY / NCCONSOLE_S3_SECRET_KEY.
    TENANT must be in the repository unless --not-in-repo.
    """
    require_in_repo(settings, tenant, not_in_repo=not_in_repo)
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    report_audit_problems(auditor)
    request = SecretRequest(
        tenant, mode, s3_access_key, s3_secret_key, dry_run, create_namespace=yes,
        wait_timeout=timeout,
    )  # fmt: skip
    progress = (lambda line: click.echo(line, err=True)) if output_format == "text" else None
    with sigterm_interrupts():
        result = create_tenant_secret(
            conn, settings, request, auditor=auditor, progress=progress, confirm=confirmer(yes)
        )
    _secret_report(result, output_format, "Created")
    return 1 if result.ready is False else 0


@secret_group.command("rotate")
@click.argument("tenant", type=TENANT)
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--s3-access-key",
    default=None,
    help=f"New S3 access key when rotating s3-access-key (or ${ACCESS_KEY_ENV}).",
)
@click.option(
    "--s3-secret-key",
    default=None,
    help=f"New S3 secret key when rotating s3-secret-key (or ${SECRET_KEY_ENV}).",
)
@click.option(
    "--i-have-changed-the-server",
    "server_changed",
    is_flag=True,
    help="db-password / redis-password: the database role or Redis already has the new "
    "value, given in NCCONSOLE_DB_PASSWORD / NCCONSOLE_REDIS_PASSWORD.",
)
@click.option("--dry-run", is_flag=True, help="Ask the API server (dryRun=All); store nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@format_option("text", "json")
@common_options
@with_settings
def secret_rotate(
    settings: Settings,
    tenant: str,
    keys: tuple[str, ...],
    s3_access_key: str | None,
    s3_secret_key: str | None,
    server_changed: bool,
    dry_run: bool,
    yes: bool,
    output_format: str,
) -> int:
    """Give KEYS of TENANT's Secret new values; other keys stay as they are.

    Generated: nextcloud-password (also set in Nextcloud with occ user:resetpassword) and
    nextcloud-secret. Given: the S3 keys (flags or NCCONSOLE_S3_ACCESS_KEY /
    NCCONSOLE_S3_SECRET_KEY), and db-password / redis-password, which are refused unless the
    server already has the new value (--i-have-changed-the-server, the value in
    NCCONSOLE_DB_PASSWORD / NCCONSOLE_REDIS_PASSWORD: never on the command line).
    """
    given = _given_values(keys, s3_access_key, s3_secret_key)
    if not dry_run and not confirmer(yes)(f"Rotate {', '.join(keys)} of tenant {tenant}?"):
        raise click.ClickException("not confirmed; pass --yes to rotate without a terminal")
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    report_audit_problems(auditor)
    with sigterm_interrupts():
        result = rotate_secret_keys(
            conn, settings, tenant, keys, auditor=auditor, given=given, dry_run=dry_run,
            server_changed=server_changed,
        )  # fmt: skip
    _secret_report(result, output_format, "Rotated keys of")
    return 0


def _given_values(
    keys: tuple[str, ...], access_key: str | None, secret_key: str | None
) -> dict[str, str]:
    """New values for the keys that are given, not generated: flags, else the environment."""
    sources = {
        "s3-access-key": access_key or os.environ.get(ACCESS_KEY_ENV),
        "s3-secret-key": secret_key or os.environ.get(SECRET_KEY_ENV),
        **{key: os.environ.get(env) for key, (_, env) in SERVER_PASSWORDS.items()},
    }
    return {key: value for key in keys if (value := sources.get(key))}


COMMANDS = [secret_group]
