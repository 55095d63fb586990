"""One reading of the whole shared platform, and what it does to each tenant: the value the
CLI prints, the console shows, and the fleet's health module reads a tenant's REASON from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ncconsole.platform.alertmanager import AlertsReading
from ncconsole.platform.certificates import CertificatesReading
from ncconsole.platform.model import Verdict, worst
from ncconsole.platform.pgbouncer import PgBouncerReading
from ncconsole.platform.redis_info import RedisReading

PGBOUNCER, REDIS, ALERTS, CERTIFICATES = "pgbouncer", "redis", "alerts", "certificates"
COMPONENTS = (PGBOUNCER, REDIS, ALERTS, CERTIFICATES)
# The words a tenant's REASON uses when PgBouncer queues its connections.
PGBOUNCER_WAITING = "waiting for a PgBouncer connection"


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

    def components(self) -> list[tuple[str, Any]]:
        return [(PGBOUNCER, self.pgbouncer), (REDIS, self.redis), (ALERTS, self.alerts),
                (CERTIFICATES, self.certificates)]  # fmt: skip

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of the components that are configured."""
        return worst(
            [r.verdict for _, r in self.components() if r.verdict is not Verdict.NOT_CONFIGURED]
        )

    def tenant_problems(self, tenant: str) -> list[str]:
        """What the platform does to `tenant` now, worst first, as REASON words."""
        out = []
        if tenant in self.pgbouncer.waiting_tenants:
            waiting = sum(p.clients_waiting for p in self.pgbouncer.pools_of(tenant))
            out.append(f"{PGBOUNCER_WAITING} ({waiting} waiting)")
        for alert in self.alerts.of_tenant(tenant):
            if alert.firing and alert.verdict in (Verdict.PROBLEM, Verdict.WARNING):
                out.append(f"alert {alert.name} ({alert.severity})")
        for cert in self.certificates.of_tenant(tenant):
            if cert.verdict in (Verdict.PROBLEM, Verdict.WARNING):
                out.append(f"certificate {cert.problem.split(':', 1)[0]}")
        return out
