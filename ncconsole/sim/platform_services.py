"""The shared platform's servers inside the simulated cluster: PgBouncer and Redis in
nc-platform, Alertmanager in `monitoring`, and a cert-manager Certificate per tenant.

The simulator runs no PgBouncer, Redis or Alertmanager of its own. Given `PlatformServers`
(real servers on loopback, e.g. from scripts/platform-servers.sh), a port-forward to one of
their pods reaches the real server, and the credential Secrets hold the real credentials;
without them the port-forward is refused, as for a pod whose server does not listen.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.sim.apiserver.store import Store
from ncconsole.sim.controllers.state import PLATFORM_NAMESPACE
from ncconsole.sim.platform_load import DatabaseAccess
from ncconsole.sim.scenario import TenantSpec

Obj = dict[str, Any]
MONITORING_NAMESPACE = "monitoring"
PGBOUNCER_ADMIN_SECRET = "pgbouncer-admin"
REDIS_SECRET = "redis-auth"
# app.kubernetes.io/name of each component's pods -> (namespace, container port, Service port).
COMPONENTS = {
    "pgbouncer": (PLATFORM_NAMESPACE, 6432, 5432),
    "redis": (PLATFORM_NAMESPACE, 6379, 6379),
    "alertmanager": (MONITORING_NAMESPACE, 9093, 9093),
}


@dataclass(frozen=True)
class RealServer:
    """A real server on loopback standing behind a simulated component's pods."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class PlatformServers:
    pgbouncer: RealServer | None = None
    redis: RealServer | None = None
    alertmanager: RealServer | None = None
    # The tenants' own client login to PgBouncer (and PostgreSQL for their databases): with
    # it the simulated tenants are PgBouncer clients (platform_load.py).
    database: DatabaseAccess | None = None

    def of(self, component: str) -> RealServer | None:
        return getattr(self, component, None)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_secrets(servers: PlatformServers) -> list[Obj]:
    """The Secrets the console reads the components' credentials from: the real servers'
    credentials where there are real servers, random ones otherwise."""
    pgbouncer, redis = servers.pgbouncer, servers.redis
    return [
        _secret(PGBOUNCER_ADMIN_SECRET, PLATFORM_NAMESPACE, {
            "username": pgbouncer.username if pgbouncer else "pgbouncer",
            "password": pgbouncer.password if pgbouncer else secrets.token_urlsafe(24),
        }),
        _secret(REDIS_SECRET, PLATFORM_NAMESPACE, {
            "password": redis.password if redis else secrets.token_urlsafe(24),
        }),
    ]  # fmt: skip


def _secret(name: str, namespace: str, values: dict[str, str]) -> Obj:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {k: _b64(v) for k, v in values.items()},
    }


def port_resolver(store: Store, servers: PlatformServers) -> Any:
    """A PortResolver: a component pod's container port -> its real server, if there is one."""

    def resolve(namespace: str, pod: Obj, port: int) -> tuple[str, int] | None:
        app = ((pod.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/name")
        expected = COMPONENTS.get(app or "")
        server = servers.of(app or "")
        if expected is None or server is None or expected[:2] != (namespace, port):
            return None
        return server.host, server.port

    return resolve


def tenant_certificate(tenant: TenantSpec, now: datetime | None = None) -> Obj:
    """The Certificate cert-manager's ingress-shim makes for the tenant's ingress TLS entry
    (named after its Secret), with a status per the tenant's certificate faults."""
    now = now or datetime.now(UTC)
    name = f"nextcloud-{tenant.name}-tls"
    faults = tenant.faults
    days = 60.0 if faults.certificate_expires_in is None else faults.certificate_expires_in
    not_after = now + timedelta(days=days)
    not_before = not_after - timedelta(days=90)
    renewal = not_after - timedelta(days=30)
    conditions: list[Obj] = [
        {"type": "Ready", "status": "True", "reason": "Ready",
         "message": "Certificate is up to date and has not expired",
         "lastTransitionTime": _iso(not_before), "observedGeneration": 1},
    ]  # fmt: skip
    status: Obj = {
        "notBefore": _iso(not_before),
        "notAfter": _iso(not_after),
        "renewalTime": _iso(renewal),
        "revision": 3,
    }
    if faults.certificate_failing:
        order = f"{name}-1-{abs(hash(tenant.name)) % 10**10}"
        failure = (
            f"The certificate request has failed to complete and will be retried: Failed to "
            f'wait for order resource "{order}" to become ready: order is in "errored" state: '
            "Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many "
            f"certificates already issued for exact set of domains: {tenant.hostname}"
        )
        conditions = [
            {"type": "Ready", "status": "False", "reason": "DoesNotExist",
             "message": "Issuing certificate as Secret does not exist",
             "lastTransitionTime": _iso(now - timedelta(hours=2)), "observedGeneration": 1},
            {"type": "Issuing", "status": "False", "reason": "Failed", "message": failure,
             "lastTransitionTime": _iso(now - timedelta(minutes=20)), "observedGeneration": 1},
        ]  # fmt: skip
        status = {
            "lastFailureTime": _iso(now - timedelta(minutes=20)),
            "failedIssuanceAttempts": 3,
        }
    status["conditions"] = conditions
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {
            "name": name,
            "namespace": tenant.namespace,
            "labels": {"app.kubernetes.io/name": "nextcloud", "tenant": tenant.name},
        },
        "spec": {
            "secretName": name,
            "dnsNames": [tenant.hostname],
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": "ClusterIssuer",
                "name": "letsencrypt",
            },
            "usages": ["digital signature", "key encipherment"],
        },
        "status": status,
    }
