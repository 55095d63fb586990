"""The shared platform's components in a few words, for the places where there is no room for
the full report (render/platform.py): the platform strip's line (PgBouncer, Redis, Alertmanager,
certificates, and when they were read), the header's platform problem, a tenant's ALERTS cell
and the tenant detail's alerts and platform panes.

A component that is not configured says so (or why it is not part of this setup); one that
could not be read says "unreachable" with the reason's last words, never "ok".
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ncconsole.platform.alertmanager import AlertsReading
from ncconsole.platform.certificates import CertificatesReading
from ncconsole.platform.model import Verdict
from ncconsole.platform.pgbouncer import PgBouncerReading
from ncconsole.platform.reading import PlatformReading, TenantPlatform
from ncconsole.platform.redis_info import RedisReading
from ncconsole.render import cells as fmt
from ncconsole.render.platform import ago, verdict_mark

SHORT_TITLES = {"pgbouncer": "PgBouncer", "redis": "Redis", "alerts": "Alerts",
                "certificates": "Certs"}  # fmt: skip
_NOT_KNOWN = (Verdict.UNKNOWN, Verdict.NOT_CONFIGURED)


def short_reason(reason: str) -> str:
    """ "unreachable: port-forward to nc-platform/pgbouncer: ...: connection refused" ->
    "unreachable (connection refused)": the cause, for a line with no room for the path."""
    if not reason.startswith("unreachable: "):
        return reason
    cause = reason.removeprefix("unreachable: ").rsplit(": ", 1)[-1]
    return f"unreachable ({cause})"


def _state(name: str, verdict: Verdict, words: str, note: str) -> Text:
    symbol, style = verdict_mark(verdict)
    text = Text(f"{SHORT_TITLES[name]} ", style="bold")
    if verdict is Verdict.NOT_CONFIGURED:
        return text.append(f"{symbol} {note or 'not configured'}", style=fmt.MUTED)
    return text.append(f"{symbol} {words}", style=style)


def pgbouncer_words(r: PgBouncerReading) -> str:
    if r.verdict in _NOT_KNOWN:
        return short_reason(r.reason)
    if r.waiting_tenants:
        who = r.waiting_tenants[0] + (
            f" +{len(r.waiting_tenants) - 1}" if len(r.waiting_tenants) > 1 else ""
        )
        words = f"{r.clients_queued} waiting ({who})"
        if r.max_clients_reached:
            words += f" · max_client_conn {r.clients_used}/{r.max_client_conn}"
        return words
    if r.max_client_conn is None and r.findings:  # refused even the admin login
        return "max_client_conn reached"
    return f"{r.clients_used}/{r.max_client_conn or '?'} clients"


def redis_words(r: RedisReading) -> str:
    if r.verdict in _NOT_KNOWN:
        return short_reason(r.reason)
    memory = f"mem {r.memory_share:.0%}" if r.memory_share is not None else "mem no limit"
    words = f"{memory} · {r.connected_clients}/{r.maxclients or '?'} clients"
    if r.verdict is Verdict.PROBLEM and r.findings:
        words = r.findings[0].split(":", 1)[0] + " · " + words
    return words


def alerts_words(r: AlertsReading) -> str:
    if r.verdict in _NOT_KNOWN:
        return short_reason(r.reason)
    firing = [a for a in r.alerts if a.firing]
    if not firing:
        silenced = len(r.alerts)
        return "none firing" + (f", {silenced} silenced" if silenced else "")
    words = f"{len(firing)} firing"
    platform = [a.name for a in firing if a.tenant is None]
    if platform:
        words += " · platform: " + ", ".join(sorted(set(platform)))
    return words


def certificates_words(r: CertificatesReading) -> str:
    if r.verdict in _NOT_KNOWN:
        return short_reason(r.reason)
    counts = {v: sum(1 for c in r.certificates if c.verdict is v) for v in Verdict}
    parts = []
    if counts[Verdict.PROBLEM]:
        parts.append(f"{counts[Verdict.PROBLEM]} failing or expired")
    if counts[Verdict.WARNING]:
        parts.append(f"{counts[Verdict.WARNING]} expiring within {r.warning_days} d")
    if counts[Verdict.UNKNOWN]:
        parts.append(f"{counts[Verdict.UNKNOWN]} not Ready yet")
    return ", ".join(parts) or f"{len(r.certificates)} valid"


def components_line(
    reading: PlatformReading | None, now: datetime, *, reads: bool = True, note: str = ""
) -> Text:
    """The platform strip's second line, e.g. "PgBouncer ✖ 15 waiting (zwolle) │ Redis ✔ mem
    8% · 3/64 clients │ Alerts ✔ none firing │ Certs ✔ 12 valid · read 4s ago". `note` replaces
    "not configured" (the demo: "not part of the demo"); `reads` False: this console does not
    read the platform at all (a fixed fleet), an empty line."""
    if reading is None:
        if not reads:
            return Text()
        return Text("PgBouncer, Redis, Alertmanager, certificates: reading…", style=fmt.MUTED)
    parts = [
        _state("pgbouncer", reading.pgbouncer.verdict, pgbouncer_words(reading.pgbouncer), note),
        _state("redis", reading.redis.verdict, redis_words(reading.redis), note),
        _state("alerts", reading.alerts.verdict, alerts_words(reading.alerts), note),
        _state("certificates", reading.certificates.verdict,
               certificates_words(reading.certificates), note),
    ]  # fmt: skip
    text = Text(" │ ").join(parts)
    if reading.read_at is not None:
        text.append(f" · read {ago(reading.read_at, now)}", style=fmt.MUTED)
    return text


def platform_problem(reading: PlatformReading | None) -> Text | None:
    """The header's words for a platform component that hurts tenants now (PgBouncer
    saturated first: it is what crash-loops them), or None."""
    if reading is None:
        return None
    pg = reading.pgbouncer
    if pg.verdict is Verdict.PROBLEM:
        if pg.waiting_tenants:
            count = len(pg.waiting_tenants)
            words = (
                f"PgBouncer saturated: {pg.clients_queued} clients waiting "
                f"({count} tenant{'s' if count != 1 else ''})"
            )
        else:
            words = "PgBouncer: max_client_conn reached, new connections refused"
        return Text(f"✖ {words}", style=fmt.BAD)
    for name, component in reading.components()[1:]:
        if component.verdict is Verdict.PROBLEM and component.findings:
            finding = component.findings[0]
            return Text(f"✖ {SHORT_TITLES[name]}: {finding}", style=fmt.BAD)
    return None


# --- a tenant's part ---------------------------------------------------------------------


def alerts_cell(platform: TenantPlatform) -> Text:
    """The fleet's ALERTS cell: how many alerts fire on the tenant, by the worst severity."""
    if not platform.alerts_known:
        if platform.alerts_reason == "not configured":
            return fmt.labelled("–", "n/a", fmt.MUTED)
        return fmt.labelled("?", "unknown", fmt.MUTED)
    firing = platform.firing
    if firing:
        worst = min((a.verdict for a in firing), key=list(Verdict).index)
        symbol, style = {Verdict.PROBLEM: ("✖", fmt.BAD), Verdict.WARNING: ("▲", fmt.WARN)}.get(
            worst, ("●", fmt.BUSY)
        )
        return fmt.labelled(symbol, f"{len(firing)} firing", style)
    if platform.alerts:
        return fmt.labelled("○", f"{len(platform.alerts)} muted", fmt.MUTED)
    return fmt.labelled("✔", "none", fmt.GOOD)


def tenant_alerts_view(platform: TenantPlatform, now: datetime) -> RenderableType:
    """The tenant detail's alerts pane: each alert (name, severity, state, since, summary),
    then the tenant's silences."""
    if not platform.alerts_known:
        reason = platform.alerts_reason or "not read"
        return Text(f"? alerts not known: Alertmanager {reason}", style=fmt.MUTED)
    parts: list[RenderableType] = []
    if platform.alerts:
        table = Table(box=None, pad_edge=False, expand=True, header_style="bold")
        for header in ("ALERT", "SEVERITY", "STATE", "SINCE", "SUMMARY"):
            wide = header == "SUMMARY"
            table.add_column(header, no_wrap=not wide, ratio=1 if wide else None,
                             overflow="fold" if wide else "ellipsis")  # fmt: skip
        for alert in platform.alerts:
            style = verdict_mark(alert.verdict)[1] if alert.firing else fmt.MUTED
            state = "firing" if alert.firing else "silenced"
            table.add_row(
                Text(alert.name, style="bold" if alert.firing else fmt.MUTED),
                Text(alert.severity or "-", style=style), Text(state, style=style),
                Text(ago(alert.since, now)), Text(alert.summary),
            )  # fmt: skip
        parts.append(table)
    else:
        parts.append(Text("✔ no alerts", style=fmt.GOOD))
    for silence in platform.silences:
        line = Text(f"⊘ silence {silence.id[:8]} {silence.state}", style=fmt.MUTED)
        line.append(f" until {ago(silence.ends, now)} · {silence.matchers_text}")
        line.append(f" · {silence.comment} — {silence.created_by}")
        parts.append(line)
    return Group(*parts)


def tenant_platform_view(platform: TenantPlatform, now: datetime) -> RenderableType:
    """The tenant detail's shared-platform pane: its PgBouncer pools and its certificates."""
    lines: list[RenderableType] = []
    for pool in platform.pools:
        style = fmt.BAD if pool.queueing else ""
        line = Text(f"PgBouncer {pool.database}: ", style="bold")
        line.append(
            f"{pool.clients_active} active, {pool.clients_waiting} waiting · servers "
            f"{pool.servers_active} busy/{pool.pool_size or '?'} · longest wait "
            f"{pool.max_wait:.1f} s",
            style=style,
        )
        lines.append(line)
    if not platform.pools:
        lines.append(Text("PgBouncer: no pool for this tenant (no clients now)", style=fmt.MUTED))
    for cert in platform.certificates:
        symbol, style = verdict_mark(cert.verdict)
        line = Text(f"certificate {cert.view.name}: ", style="bold")
        line.append(f"{symbol} {cert.problem or 'valid'}", style=style)
        not_after = cert.view.not_after
        if not_after is not None:
            line.append(f" · not after {not_after:%Y-%m-%d} ({ago(not_after, now)})", fmt.MUTED)
        lines.append(line)
    return Group(*lines)
