"""`ncconsole platform`, `ncconsole certs` and `ncconsole silence`: the shared platform's
components (PgBouncer, Redis, Alertmanager, certificates) read once, and silences.

Exit codes like `status`: 0 fine (warnings included), 1 a component has a problem or cannot be
read, 2 the platform could not be read at all (bad kubeconfig, API unreachable).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from ncconsole.cli.options import (
    TENANT,
    DurationParam,
    cluster_options,
    confirmer,
    format_option,
    read_only_option,
    sigterm_interrupts,
    with_settings,
)
from ncconsole.cli.tables import stdout_console
from ncconsole.durations import DurationRange, format_seconds
from ncconsole.errors import NcConsoleError
from ncconsole.ops.audit import Auditor
from ncconsole.ops.platform import (
    CERTIFICATES,
    PlatformReading,
    platform_connection,
    read_platform,
)
from ncconsole.ops.silences import (
    SILENCE_LENGTH,
    create_tenant_silence,
    expire_silence,
    list_silences,
    plan_tenant_silence,
    silence_author,
)
from ncconsole.platform.model import Verdict
from ncconsole.render.platform import (
    certificate_record,
    certificate_table,
    platform_record,
    platform_report,
    silence_record,
    silence_table,
)
from ncconsole.settings import Settings

ALERTS_ONLY = ("alerts",)
EXPIRING = DurationRange(60, 3650 * 86400)  # "within 0" would show only failures


def exit_code(verdict: Verdict) -> int:
    return 1 if verdict in (Verdict.PROBLEM, Verdict.UNKNOWN) else 0


@click.command("platform")
@format_option("table", "json")
@cluster_options
@with_settings
def platform_command(settings: Settings, output_format: str) -> int:
    """The shared platform once: PgBouncer pools, Redis, Alertmanager alerts, certificates.

    Exit 1 when a component has a problem or cannot be read."""
    conn = platform_connection(settings)
    reading: PlatformReading = read_platform(settings, conn)
    if output_format == "json":
        click.echo(json.dumps(platform_record(reading), indent=2))
    else:
        stdout_console(highlight=False, soft_wrap=False).print(platform_report(reading))
    return exit_code(reading.verdict)


@click.command("certs")
@click.option(
    "--expiring",
    type=DurationParam(EXPIRING),
    default=None,
    metavar="DURATION",
    help="Only certificates expiring within DURATION (14d, 48h) or failing; also the warning "
    "threshold (default: setting platform.certificates.warning_days).",
)
@format_option("table", "json")
@cluster_options
@with_settings
def certs_command(settings: Settings, expiring: float | None, output_format: str) -> int:
    """The tenants' TLS certificates (cert-manager): Ready, expiry, renewal, last failure.

    Exit 1 when one shown is failing, expired or expiring within the threshold, 2 when they
    cannot be read."""
    if expiring is not None:
        days = expiring / 86400
        platform = settings.platform.model_copy(
            update={"certificates": settings.platform.certificates.model_copy(
                update={"warning_days": max(0, round(days))})}
        )  # fmt: skip
        settings = settings.model_copy(update={"platform": platform})
    conn = platform_connection(settings, (CERTIFICATES,))
    reading = read_platform(settings, conn, components=(CERTIFICATES,)).certificates
    if reading.verdict is Verdict.UNKNOWN:
        raise NcConsoleError(f"certificates: {reading.reason}")  # exit 2: not readable
    shown = list(reading.certificates)
    if expiring is not None:
        shown = [c for c in shown if c.verdict is not Verdict.OK]
    if output_format == "json":
        click.echo(json.dumps({
            "warning_days": reading.warning_days, "reason": reading.reason or None,
            "certificates": [certificate_record(c) for c in shown],
        }, indent=2))  # fmt: skip
    elif reading.verdict is Verdict.NOT_CONFIGURED:
        click.echo(reading.reason)
    elif not shown:
        click.echo(
            f"no certificate expiring within {format_seconds(expiring)} or failing"
            if expiring
            else "no certificates in tenant namespaces"
        )
    else:
        stdout_console(highlight=False, soft_wrap=False).print(certificate_table(shown))
    return 1 if any(c.verdict is not Verdict.OK for c in shown) else 0


class _SilenceGroup(click.Group):
    """`silence TENANT ...` creates (the common case); `silence list|expire|create` as named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("silence", cls=_SilenceGroup)
@click.pass_context
def silence_group(ctx: click.Context) -> None:
    """Silence a tenant's alerts in Alertmanager: `silence TENANT --for 2h --comment "..."`,
    `silence list`, `silence expire ID`."""
    if ctx.default_map:
        flat = dict(ctx.default_map)
        ctx.default_map = {name: flat for name in ("create", "list", "expire")}


@silence_group.command("create")
@click.argument("tenant", type=TENANT)
@click.option("--for", "length", type=DurationParam(SILENCE_LENGTH), default="2h",
              show_default=True, metavar="DURATION",
              help="How long: 30m, 2h, 1d (at most 31d).")  # fmt: skip
@click.option("--comment", required=True, help="Why (stored in Alertmanager and the audit).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@format_option("text", "json")
@cluster_options
@read_only_option
@with_settings
def silence_create(
    settings: Settings, tenant: str, length: float, comment: str, yes: bool, output_format: str
) -> int:
    """Silence TENANT's alerts (matched by its namespace label) for --for."""
    conn = platform_connection(settings, ALERTS_ONLY)
    auditor = Auditor(settings, conn)
    plan = plan_tenant_silence(
        settings, tenant, timedelta(seconds=length), comment, silence_author(auditor)
    )
    click.echo(
        f"Silence for tenant {tenant}: matchers {plan.matchers_text}, from "
        f"{plan.starts:%Y-%m-%d %H:%M} until {plan.ends:%Y-%m-%d %H:%M} UTC, by "
        f"{plan.created_by}, comment: {plan.comment}",
        err=output_format == "json",
    )
    if not settings.read_only and not confirmer(yes)("Create this silence?"):
        raise click.ClickException("not confirmed; pass --yes to silence without a terminal")
    with sigterm_interrupts():
        silence_id = create_tenant_silence(settings, conn, plan, auditor=auditor)
    if output_format == "json":
        click.echo(json.dumps({
            "id": silence_id, "tenant": tenant, "matchers": plan.matchers_text,
            "starts": plan.starts.isoformat(), "ends": plan.ends.isoformat(),
            "comment": plan.comment, "created_by": plan.created_by,
        }, indent=2))  # fmt: skip
    else:
        click.echo(f"Created silence {silence_id}")
    return 0


@silence_group.command("list")
@click.option("--tenant", default=None, help="Only this tenant's silences.")
@click.option("--all", "include_expired", is_flag=True, help="Expired silences too.")
@format_option("table", "json")
@cluster_options
@with_settings
def silence_list(
    settings: Settings, tenant: str | None, include_expired: bool, output_format: str
) -> int:
    """Silences in Alertmanager, active and pending first."""
    conn = platform_connection(settings, ALERTS_ONLY)
    silences = list_silences(settings, conn, tenant=tenant, include_expired=include_expired)
    if output_format == "json":
        click.echo(json.dumps([silence_record(s) for s in silences], indent=2))
    elif not silences:
        click.echo("no silences" + (f" for tenant {tenant}" if tenant else ""))
    else:
        stdout_console(highlight=False, soft_wrap=False).print(
            silence_table(silences, datetime.now(UTC))
        )
    return 0


@silence_group.command("expire")
@click.argument("silence_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@cluster_options
@read_only_option
@with_settings
def silence_expire(settings: Settings, silence_id: str, yes: bool) -> int:
    """End silence ID now (its alerts notify again)."""
    conn = platform_connection(settings, ALERTS_ONLY)
    auditor = Auditor(settings, conn)
    if not settings.read_only and not confirmer(yes)(f"Expire silence {silence_id}?"):
        raise click.ClickException("not confirmed; pass --yes to expire without a terminal")
    with sigterm_interrupts():
        silence = expire_silence(settings, conn, silence_id, auditor=auditor)
    click.echo(f"Expired silence {silence_id} ({silence.matchers_text})")
    return 0


COMMANDS = [platform_command, certs_command, silence_group]
