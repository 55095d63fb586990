"""One reading of the whole shared platform, and what it does to each tenant: the value the
CLI prints, the console shows, and the fleet's health module reads a tenant's REASON from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from ncconsole.platform.alertmanager import Alert, AlertsReading, Silence
from ncconsole.platform.certificates import CertificatesReading, CertificateState
from ncconsole.platform.model import Verdict, worst
from ncconsole.platform.pgbouncer import PgBouncerReading, PoolStats, clients_queued
from ncconsole.platform.redis_info import RedisReading

PGBOUNCER, REDIS, ALERTS, CERTIFICATES = "pgbouncer", "redis", "alerts", "certificates"
COMPONENTS = (PGBOUNCER, REDIS, ALERTS, CERTIFICATES)
# The words a tenant's REASON uses when PgBouncer queues its connections.
PGBOUNCER_WAITING = "waiting for a PgBouncer connection"
_ORDER = list(Verdict)
# A component's verdict when its reading says nothing about anyone.
_NOT_KNOWN = (Verdict.UNKNOWN, Verdict.NOT_CONFIGURED)


@dataclass(frozen=True)
class TenantPlatform:
    """What the shared platform says about one tenant: its alerts (firing and silenced), its
    silences not yet expired, its certificates, its PgBouncer pools, and the findings they
    make, worst first ("waiting for a PgBouncer connection (3 waiting)", "alert X (critical)",
    "certificate expires in 5 d")."""

    alerts: tuple[Alert, ...] = ()
    silences: tuple[Silence, ...] = ()
    certificates: tuple[CertificateState, ...] = ()
    pools: tuple[PoolStats, ...] = ()
    findings: tuple[tuple[Verdict, str], ...] = ()
    # Whether Alertmanager was read: no alerts then means none, not "could not tell".
    alerts_known: bool = False
    alerts_reason: str = "not read"  # why not known ("not configured", "unreachable: ...")

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.firing)

    @property
    def problems(self) -> list[str]:
        return [text for _, text in self.findings]

    def signature(self) -> tuple[Any, ...]:
        """What a change of shows on screen: a certificate's remaining time ticks on every
        reading and is left out, its verdict and words are in."""
        return (
            self.alerts, self.silences, self.pools, self.findings, self.alerts_known,
            self.alerts_reason,
            tuple((c.view, c.verdict, c.problem) for c in self.certificates),
        )  # fmt: skip


# A tenant the platform was not read for (no reading yet, or none taken by this fleet).
NOT_READ = TenantPlatform()


def tenant_findings(
    pools: tuple[PoolStats, ...],
    alerts: tuple[Alert, ...],
    certificates: tuple[CertificateState, ...],
) -> tuple[tuple[Verdict, str], ...]:
    """The platform's findings about one tenant from its pools, alerts and certificates."""
    out: list[tuple[Verdict, str]] = []
    waiting = clients_queued(pools)
    if waiting:
        out.append((Verdict.PROBLEM, f"{PGBOUNCER_WAITING} ({waiting} waiting)"))
    for alert in alerts:
        if alert.firing and alert.verdict in (Verdict.PROBLEM, Verdict.WARNING):
            out.append((alert.verdict, f"alert {alert.name} ({alert.severity})"))
    for cert in certificates:
        if cert.verdict in (Verdict.PROBLEM, Verdict.WARNING):
            out.append((cert.verdict, f"certificate {cert.problem.split(':', 1)[0]}"))
    return tuple(sorted(out, key=lambda finding: _ORDER.index(finding[0])))


@dataclass(frozen=True)
class PlatformReading:
    pgbouncer: PgBouncerReading = field(
        default_factory=lambda: PgBouncerReading(Verdict.NOT_CONFIGURED, "not read")
    )
    redis: RedisReading = field(
        default_factory=lambda: RedisReading(Verdict.NOT_CONFIGURED, "not read")
    )
    alerts: AlertsReading = field(
        default_factory=lambda: AlertsReading(Verdict.NOT_CONFIGURED, "not read")
    )
    certificates: CertificatesReading = field(
        default_factory=lambda: CertificatesReading(Verdict.NOT_CONFIGURED, "not read")
    )
    read_at: datetime | None = None
    # Seconds the reading took (the slowest component, or its deadline).
    duration: float = 0.0

    def components(self) -> list[tuple[str, Any]]:
        return [(PGBOUNCER, self.pgbouncer), (REDIS, self.redis), (ALERTS, self.alerts),
                (CERTIFICATES, self.certificates)]  # fmt: skip

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of the components that are configured."""
        return worst(
            [r.verdict for _, r in self.components() if r.verdict is not Verdict.NOT_CONFIGURED]
        )

    @cached_property
    def by_tenant(self) -> dict[str, TenantPlatform]:
        """Every tenant the reading names, with what it says about it (computed once)."""
        pools: dict[str, list[PoolStats]] = {}
        alerts: dict[str, list[Alert]] = {}
        silences: dict[str, list[Silence]] = {}
        certificates: dict[str, list[CertificateState]] = {}
        for pool in self.pgbouncer.pools:
            if pool.tenant:
                pools.setdefault(pool.tenant, []).append(pool)
        for alert in self.alerts.alerts:
            if alert.tenant:
                alerts.setdefault(alert.tenant, []).append(alert)
        for silence in self.alerts.silences:
            if silence.tenant and silence.state != "expired":
                silences.setdefault(silence.tenant, []).append(silence)
        for cert in self.certificates.certificates:
            if cert.tenant:
                certificates.setdefault(cert.tenant, []).append(cert)
        known = self.alerts.verdict not in _NOT_KNOWN
        reason = "" if known else self.alerts.reason
        out = {}
        for name in set(pools) | set(alerts) | set(silences) | set(certificates):
            mine = (
                tuple(pools.get(name, ())),
                tuple(alerts.get(name, ())),
                tuple(certificates.get(name, ())),
            )
            out[name] = TenantPlatform(
                alerts=mine[1],
                silences=tuple(silences.get(name, ())),
                certificates=mine[2],
                pools=mine[0],
                findings=tenant_findings(*mine),
                alerts_known=known,
                alerts_reason=reason,
            )
        return out

    @cached_property
    def nothing_about(self) -> TenantPlatform:
        """What the reading says about a tenant it does not name."""
        known = self.alerts.verdict not in _NOT_KNOWN
        return TenantPlatform(alerts_known=known, alerts_reason="" if known else self.alerts.reason)

    def of_tenant(self, tenant: str) -> TenantPlatform:
        return self.by_tenant.get(tenant) or self.nothing_about

    def tenant_problems(self, tenant: str) -> list[str]:
        """What the platform does to `tenant` now, worst first, as REASON words."""
        return self.of_tenant(tenant).problems
