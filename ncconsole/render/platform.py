"""The shared platform's reading as rich text and tables, and as JSON records: the same words
for `ncconsole platform`, `ncconsole certs`, `ncconsole silence list` and the console's panes;
and the fleet's one line about the shared services (`platform_line`) for the console's platform
strip and `ncconsole status`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ncconsole.fleet.model import DeploymentView, PlatformState
from ncconsole.platform.alertmanager import Alert, AlertsReading, Silence
from ncconsole.platform.certificates import CertificatesReading, CertificateState
from ncconsole.platform.model import Verdict
from ncconsole.platform.pgbouncer import PgBouncerReading
from ncconsole.platform.reading import PlatformReading
from ncconsole.platform.redis_info import RedisReading
from ncconsole.render import cells as fmt

# Kinds, not styles: the palette is chosen at start (NO_COLOR, high contrast), after import.
_VERDICT_MARK = {
    Verdict.OK: ("✔", "good"),
    Verdict.WARNING: ("▲", "warn"),
    Verdict.PROBLEM: ("✖", "bad"),
    Verdict.UNKNOWN: ("?", "muted"),
    Verdict.NOT_CONFIGURED: ("–", "muted"),
}
TITLES = {"pgbouncer": "PgBouncer", "redis": "Redis", "alerts": "Alertmanager",
          "certificates": "Certificates"}  # fmt: skip


def verdict_mark(verdict: Verdict) -> tuple[str, str]:
    """A verdict's symbol and its style in the palette in use."""
    symbol, kind = _VERDICT_MARK[verdict]
    return symbol, fmt.style(kind)


def verdict_text(verdict: Verdict) -> Text:
    symbol, style = verdict_mark(verdict)
    return Text(f"{symbol} {verdict.value}", style=style)


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return span(now - moment) + " ago" if moment <= now else "in " + span(moment - now)


def span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _mib(value: int | None) -> str:
    return f"{(value or 0) / 1048576:.1f} MiB"


_FOLDED = ("SUMMARY", "PROBLEM", "COMMENT", "MATCHERS")


def _table(*headers: str) -> Table:
    """Short columns stay on one line; long text folds instead of being cut off."""
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
    for header in headers:
        folded = header in _FOLDED
        table.add_column(header, no_wrap=not folded, overflow="fold" if folded else "ellipsis",
                         ratio=1 if folded else None)  # fmt: skip
    return table


def _headline(name: str, verdict: Verdict, detail: str) -> Text:
    text = Text(f"{TITLES[name]:<13}", style="bold")
    text.append_text(verdict_text(verdict))
    if detail:
        text.append(f"  {detail}")
    return text


def _findings(findings: tuple[str, ...], reason: str) -> list[RenderableType]:
    out: list[RenderableType] = []
    if reason and reason not in ("not configured",):
        out.append(Text(f"  {reason}", style=fmt.MUTED))
    out.extend(Text(f"  ! {finding}", style=fmt.WARN) for finding in findings)
    return out


def pgbouncer_lines(reading: PgBouncerReading) -> list[RenderableType]:
    detail = ""
    if reading.version or reading.max_client_conn:
        detail = " · ".join(filter(None, [
            reading.via, reading.version,
            f"clients {reading.clients_used}/{reading.max_client_conn or '?'} (max_client_conn)",
            f"pool size {reading.default_pool_size or '?'}", reading.pool_mode,
        ]))  # fmt: skip
    out: list[RenderableType] = [_headline("pgbouncer", reading.verdict, detail)]
    out += _findings(reading.findings, reading.reason)
    if reading.pools:
        table = _table("  DATABASE", "TENANT", "ACTIVE", "WAITING", "SERVERS", "MAX WAIT")
        for pool in reading.pools:
            style = fmt.BAD if pool.queueing else ""
            table.add_row(
                Text(f"  {pool.database}"), Text(pool.tenant or "-"),
                Text(str(pool.clients_active)), Text(str(pool.clients_waiting), style=style),
                Text(f"{pool.servers_active + pool.servers_idle + pool.servers_used}"
                     f"/{pool.pool_size or '?'}"),
                Text(f"{pool.max_wait:.1f} s", style=style),
            )  # fmt: skip
        out.append(table)
    return out


def redis_lines(reading: RedisReading, now: datetime) -> list[RenderableType]:
    detail = ""
    if reading.version:
        memory = _mib(reading.used_memory)
        if reading.maxmemory:
            memory += f"/{_mib(reading.maxmemory)} ({reading.memory_share or 0:.0%})"
        else:
            memory += " (no maxmemory)"
        detail = " · ".join(filter(None, [
            reading.via, f"Redis {reading.version} {reading.role}",
            f"clients {reading.connected_clients}/{reading.maxclients or '?'}",
            f"memory {memory} {reading.maxmemory_policy}",
            f"evicted {reading.evicted_keys}", f"rejected {reading.rejected_connections}",
            f"last save {ago(reading.last_save, now)}",
        ]))  # fmt: skip
    return [
        _headline("redis", reading.verdict, detail),
        *_findings(reading.findings, reading.reason),
    ]


def alert_table(alerts: tuple[Alert, ...], now: datetime) -> Table:
    table = _table("  TENANT", "ALERT", "SEVERITY", "STATE", "SINCE", "SUMMARY")
    for alert in alerts:
        style = verdict_mark(alert.verdict)[1]
        state = Text("firing") if alert.firing else Text("silenced", style=fmt.MUTED)
        table.add_row(
            Text(f"  {alert.tenant or '(platform)'}"), Text(alert.name),
            Text(alert.severity or "-", style=style),
            state,
            Text(ago(alert.since, now)), Text(alert.summary),
        )  # fmt: skip
    return table


def silence_table(silences: list[Silence] | tuple[Silence, ...], now: datetime) -> Group:
    """Two lines per silence (ids are long): id, state, tenant, end; then matchers and why."""
    lines: list[RenderableType] = []
    for s in silences:
        style = fmt.MUTED if s.state == "expired" else ""
        head = Text(f"{s.id}  ", style=style or "bold")
        head.append(f"{s.state:<8} {s.tenant or '(no tenant)'}  ends {ago(s.ends, now)}", style)
        lines.append(head)
        lines.append(Text(f"    {s.matchers_text} · {s.comment} — {s.created_by}", style=style))
    return Group(*lines)


def alerts_lines(reading: AlertsReading, now: datetime) -> list[RenderableType]:
    firing = [a for a in reading.alerts if a.firing]
    active_silences = [s for s in reading.silences if s.state == "active"]
    detail = ""
    if reading.verdict not in (Verdict.UNKNOWN, Verdict.NOT_CONFIGURED):
        detail = (
            f"{reading.via} · {len(firing)} firing, {len(reading.alerts) - len(firing)} "
            f"silenced · {len(active_silences)} active silences"
        )
    out: list[RenderableType] = [_headline("alerts", reading.verdict, detail)]
    out += _findings((), reading.reason)
    if reading.alerts:
        out.append(alert_table(reading.alerts, now))
    return out


def certificate_table(states: tuple[CertificateState, ...] | list[CertificateState]) -> Group:
    """A row per certificate; what is wrong with it on an indented line below (cert-manager's
    messages are long and must not be cut)."""
    rows = [
        (
            state.tenant or state.view.namespace,
            state.view.name,
            state.verdict,
            f"{state.view.not_after:%Y-%m-%d}" if state.view.not_after else "-",
            f"{state.view.renewal_time:%Y-%m-%d}" if state.view.renewal_time else "-",
            state.problem,
        )
        for state in states
    ]
    width = [
        max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(("TENANT", "CERTIFICATE"))
    ]
    names = f"{'TENANT':<{width[0]}}  {'CERTIFICATE':<{width[1]}}  "
    header = f"{names}{'STATE':<11}{'NOT AFTER':<12}RENEWAL"
    lines: list[RenderableType] = [Text(header, style="bold")]
    for tenant, name, verdict, not_after, renewal, problem in rows:
        line = Text(f"{tenant:<{width[0]}}  {name:<{width[1]}}  ")
        line.append_text(verdict_text(verdict))
        line.append(" " * max(1, 11 - len(verdict.value) - 2) + f"{not_after:<12}{renewal}")
        lines.append(line)
        if problem:
            lines.append(Text(f"    {problem}", style=verdict_mark(verdict)[1]))
    return Group(*lines)


def certificates_lines(reading: CertificatesReading) -> list[RenderableType]:
    detail = ""
    if reading.verdict not in (Verdict.UNKNOWN, Verdict.NOT_CONFIGURED):
        detail = (
            f"{len(reading.certificates)} tenant certificates · warn {reading.warning_days} d ahead"
        )
    out: list[RenderableType] = [_headline("certificates", reading.verdict, detail)]
    out += _findings((), reading.reason)
    noteworthy = [s for s in reading.certificates if s.verdict is not Verdict.OK]
    if noteworthy:
        out.append(certificate_table(noteworthy))
    return out


def platform_report(reading: PlatformReading, now: datetime | None = None) -> Group:
    now = now or reading.read_at or datetime.now(UTC)
    title = Text("platform ", style="bold")
    title.append_text(verdict_text(reading.verdict))
    lines: list[RenderableType] = [title]
    lines += pgbouncer_lines(reading.pgbouncer)
    lines += redis_lines(reading.redis, now)
    lines += alerts_lines(reading.alerts, now)
    lines += certificates_lines(reading.certificates)
    return Group(*lines)


# --- JSON ---------------------------------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def alert_record(alert: Alert) -> dict[str, Any]:
    return {"name": alert.name, "tenant": alert.tenant, "severity": alert.severity,
            "state": alert.state, "firing": alert.firing, "since": _iso(alert.since),
            "summary": alert.summary, "labels": alert.labels,
            "silenced_by": list(alert.silenced_by)}  # fmt: skip


def silence_record(s: Silence) -> dict[str, Any]:
    return {"id": s.id, "state": s.state, "tenant": s.tenant, "matchers": s.matchers_text,
            "starts": _iso(s.starts), "ends": _iso(s.ends), "created_by": s.created_by,
            "comment": s.comment}  # fmt: skip


def certificate_record(state: CertificateState) -> dict[str, Any]:
    view = state.view
    return {"tenant": state.tenant, "namespace": view.namespace, "name": view.name,
            "verdict": state.verdict.value, "problem": state.problem, "ready": view.ready,
            "not_after": _iso(view.not_after), "renewal_time": _iso(view.renewal_time),
            "last_failure_time": _iso(view.last_failure_time),
            "failure_message": view.failure_message or None,
            "expires_in_days": round(state.expires_in.total_seconds() / 86400, 2)
            if state.expires_in is not None else None,
            "dns_names": list(view.dns_names)}  # fmt: skip


def platform_record(reading: PlatformReading, tenants: list[str] | None = None) -> dict[str, Any]:
    """The whole reading with stable keys, for scripts (`--format json`)."""
    pg, redis, alerts, certs = (reading.pgbouncer, reading.redis, reading.alerts,
                                reading.certificates)  # fmt: skip

    def head(r: Any) -> dict[str, Any]:
        return {"verdict": r.verdict.value, "reason": r.reason or None,
                "findings": list(r.findings)}  # fmt: skip

    names = set(tenants or ())
    names |= {p.tenant for p in pg.pools if p.tenant}
    names |= {a.tenant for a in alerts.alerts if a.tenant}
    names |= {c.tenant for c in certs.certificates if c.tenant}
    return {
        "verdict": reading.verdict.value,
        "read_at": _iso(reading.read_at),
        "pgbouncer": {
            **head(pg), "via": pg.via or None, "version": pg.version or None,
            "clients_used": pg.clients_used, "max_client_conn": pg.max_client_conn,
            "default_pool_size": pg.default_pool_size, "pool_mode": pg.pool_mode or None,
            "clients_waiting": pg.clients_queued, "waiting_tenants": list(pg.waiting_tenants),
            "pools": [
                {"database": p.database, "tenant": p.tenant, "user": p.user,
                 "clients_active": p.clients_active, "clients_waiting": p.clients_waiting,
                 "servers_active": p.servers_active, "servers_idle": p.servers_idle,
                 "max_wait_seconds": round(p.max_wait, 3), "pool_size": p.pool_size}
                for p in pg.pools
            ],
        },
        "redis": {
            **head(redis), "via": redis.via or None, "version": redis.version or None,
            "role": redis.role or None, "connected_clients": redis.connected_clients,
            "maxclients": redis.maxclients, "used_memory": redis.used_memory,
            "maxmemory": redis.maxmemory, "maxmemory_policy": redis.maxmemory_policy or None,
            "evicted_keys": redis.evicted_keys,
            "rejected_connections": redis.rejected_connections,
            "last_save": _iso(redis.last_save), "last_bgsave_ok": redis.last_bgsave_ok,
        },
        "alertmanager": {
            **head(alerts), "via": alerts.via or None,
            "alerts": [alert_record(a) for a in alerts.alerts],
            "silences": [silence_record(s) for s in alerts.silences if s.state != "expired"],
        },
        "certificates": {
            **head(certs), "warning_days": certs.warning_days,
            "certificates": [certificate_record(c) for c in certs.certificates],
        },
        "tenants": {name: reading.tenant_problems(name) for name in sorted(names)},
    }  # fmt: skip


def _deployment_text(label: str, deployment: DeploymentView | None) -> Text:
    if deployment is None:
        return Text(f"? {label} not found", style=fmt.MUTED)
    ready = deployment.ready_replicas >= deployment.replicas > 0
    symbol, style = ("✔", fmt.GOOD) if ready else ("✖", fmt.BAD)
    word = "ready" if ready else "not ready"
    counts = f"{deployment.ready_replicas}/{deployment.replicas}"
    return Text(f"{symbol} {label} {counts} {word}", style)


def platform_line(platform: PlatformState) -> Text:
    """The fleet's one line about the shared services (its watched Deployments and the
    secret store): the console's platform strip and `ncconsole status` print it."""
    text = Text("platform ", style="bold")
    text.append_text(_deployment_text("redis", platform.redis))
    text.append(" · ")
    text.append_text(_deployment_text("pgbouncer", platform.pgbouncer))
    text.append(" · ")
    if platform.secret_store_ready is None:
        text.append("? secret store unknown", style=fmt.MUTED)
    elif platform.secret_store_ready:
        text.append("✔ secret store ready", style=fmt.GOOD)
    else:
        message = f": {platform.secret_store_message}" if platform.secret_store_message else ""
        text.append(f"✖ secret store not ready{message}", style=fmt.BAD)
    return text
