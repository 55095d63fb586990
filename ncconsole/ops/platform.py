"""One reading of the shared platform: PgBouncer, Redis, Alertmanager and the tenants'
certificates, each read on its own thread with a deadline, so a component that hangs or is
unreachable is reported as such and never holds up the others.

The result is a PlatformReading (platform/reading.py), which also says per tenant what the
platform does to it (clients waiting for a PgBouncer connection, alerts, certificates).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from ncconsole.kube.certificates import list_certificates
from ncconsole.kube.connection import KubeConnection, check_identity, connect
from ncconsole.ops.platform_access import ComponentUnreachable, credentials, open_access
from ncconsole.platform.alertmanager import AlertmanagerClient, AlertsReading, LabelMapping
from ncconsole.platform.certificates import CertificatesReading, judge_certificates
from ncconsole.platform.model import Verdict, unreachable
from ncconsole.platform.pgbouncer import PgBouncerReading, read_pgbouncer
from ncconsole.platform.reading import (
    ALERTS,
    CERTIFICATES,
    COMPONENTS,
    PGBOUNCER,
    REDIS,
    PlatformReading,
)
from ncconsole.platform.redis_info import RedisReading, read_redis
from ncconsole.platform.tenants import tenant_of_database
from ncconsole.settings import Settings

# Seconds a component may take beyond its own timeout (port-forward setup, Secret read).
DEADLINE_MARGIN = 5.0

R = TypeVar("R")


def needs_cluster(settings: Settings, components: Collection[str]) -> bool:
    """Whether reading `components` goes through the Kubernetes API (a port-forward, a
    credentials Secret, or the Certificates)."""
    platform = settings.platform
    parts = {PGBOUNCER: platform.pgbouncer, REDIS: platform.redis, ALERTS: platform.alertmanager}
    for name in components:
        if name == CERTIFICATES:
            return True
        part = parts[name]
        direct = part.address or getattr(part, "url", None)
        if part.configured and (not direct or (part.credentials_secret and not part.password)):
            return True
    return False


def platform_connection(
    settings: Settings, components: Collection[str] = COMPONENTS
) -> KubeConnection | None:
    """A checked connection to the cluster when the components need one, else None.
    KubeConfigError or ApiUnreachable (exit 2) when the cluster is needed but cannot be read."""
    if not needs_cluster(settings, components):
        return None
    conn = connect(settings)
    check_identity(conn, require_answer=True)  # fail once, here, not once per component
    return conn


def label_mapping(settings: Settings) -> LabelMapping:
    am = settings.platform.alertmanager
    return LabelMapping(
        tenant_labels=tuple(am.tenant_labels),
        namespace_labels=tuple(am.namespace_labels),
        namespace_prefix=settings.namespace_prefix,
        not_tenants=(settings.platform_namespace,),
    )


def tenant_of_namespace(settings: Settings, namespace: str) -> str | None:
    prefix = settings.namespace_prefix
    if not namespace.startswith(prefix) or namespace == settings.platform_namespace:
        return None
    return namespace[len(prefix) :] or None


def _read_pgbouncer(settings: Settings, conn: KubeConnection | None) -> PgBouncerReading:
    component = settings.platform.pgbouncer
    if not component.configured:
        return PgBouncerReading(Verdict.NOT_CONFIGURED, "not configured")
    pattern = component.database_pattern
    try:
        with open_access(settings, component, conn, PGBOUNCER) as access:
            reading = read_pgbouncer(
                access.endpoint,
                lambda database: tenant_of_database(database, pattern),
                timeout=component.timeout,
            )
            if reading.verdict is Verdict.UNKNOWN and access.forward_error:
                reading = PgBouncerReading(
                    Verdict.UNKNOWN, unreachable(access.forward_error), via=reading.via
                )
            return reading
    except ComponentUnreachable as err:
        return PgBouncerReading(_unreachable_verdict(err), _reason(err))


def _read_redis(settings: Settings, conn: KubeConnection | None) -> RedisReading:
    component = settings.platform.redis
    if not component.configured:
        return RedisReading(Verdict.NOT_CONFIGURED, "not configured")
    try:
        with open_access(settings, component, conn, REDIS) as access:
            reading = read_redis(
                access.endpoint, timeout=component.timeout, memory_warning=component.memory_warning
            )
            if reading.verdict is Verdict.UNKNOWN and access.forward_error:
                reading = RedisReading(
                    Verdict.UNKNOWN, unreachable(access.forward_error), via=reading.via
                )
            return reading
    except ComponentUnreachable as err:
        return RedisReading(_unreachable_verdict(err), _reason(err))


def _read_alerts(settings: Settings, conn: KubeConnection | None) -> AlertsReading:
    if not settings.platform.alertmanager.configured:
        return AlertsReading(Verdict.NOT_CONFIGURED, "not configured")
    try:
        with alertmanager_client(settings, conn) as (client, forward_error):
            reading = client.read(label_mapping(settings))
            if reading.verdict is Verdict.UNKNOWN and forward_error():
                reading = AlertsReading(
                    Verdict.UNKNOWN, unreachable(forward_error()), via=reading.via
                )
            return reading
    except ComponentUnreachable as err:
        return AlertsReading(_unreachable_verdict(err), _reason(err))


def _read_certificates(
    settings: Settings, conn: KubeConnection | None, now: datetime
) -> CertificatesReading:
    days = settings.platform.certificates.warning_days
    if conn is None:
        return CertificatesReading(Verdict.UNKNOWN, "unreachable: no cluster connection")
    views, problem = list_certificates(conn)
    if problem.startswith("cert-manager is not installed"):
        return CertificatesReading(Verdict.NOT_CONFIGURED, problem, warning_days=days)
    return judge_certificates(
        views,
        lambda namespace: tenant_of_namespace(settings, namespace),
        now,
        warning_days=days,
        reason=problem,
    )


def _unreachable_verdict(err: ComponentUnreachable) -> Verdict:
    return Verdict.NOT_CONFIGURED if str(err) == "not configured" else Verdict.UNKNOWN


def _reason(err: ComponentUnreachable) -> str:
    text = str(err)
    return text if text == "not configured" else unreachable(text)


@contextlib.contextmanager
def alertmanager_client(
    settings: Settings, conn: KubeConnection | None
) -> Iterator[tuple[AlertmanagerClient, Callable[[], str]]]:
    """An AlertmanagerClient on the configured URL, address or port-forward, with a callable
    giving the port-forward's last error ("" for a direct URL). ComponentUnreachable when it
    cannot be reached at all."""
    am = settings.platform.alertmanager
    username, password = "", ""
    if am.credentials_secret or am.password:
        username, password = credentials(settings, am, conn, "alertmanager")
    auth = (username, password) if password else None
    if am.url:
        verify: bool | str = False if am.insecure else (str(am.ca_file) if am.ca_file else True)
        with AlertmanagerClient(am.url, timeout=am.timeout, auth=auth, verify=verify) as client:
            yield client, lambda: ""
        return
    with (
        open_access(settings, am, conn, "alertmanager") as access,
        AlertmanagerClient(
            f"http://{access.endpoint.host}:{access.endpoint.port}",
            timeout=am.timeout,
            auth=auth,
            via=access.endpoint.via,
        ) as client,
    ):
        yield client, lambda: access.forward_error


def _run_with_deadline(fn: Callable[[], R], deadline: float, fallback: Callable[[str], R]) -> Any:
    """Start `fn` on a daemon thread; a handle whose result() waits until `deadline` seconds
    have passed since the start and then gives `fallback(why)` instead."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except Exception as err:  # a client bug must not take the screen down: say it
            box["value"] = fallback(unreachable(f"{type(err).__name__}: {err}"))

    thread = threading.Thread(target=run, name="platform reading", daemon=True)
    thread.start()

    class Handle:
        def result(self, remaining: float) -> R:
            thread.join(max(0.0, remaining))
            if "value" in box:
                return box["value"]
            return fallback(f"unreachable: no answer within {deadline:.0f} s")

    return Handle()


def read_platform(
    settings: Settings,
    conn: KubeConnection | None,
    *,
    components: Collection[str] = COMPONENTS,
    now: datetime | None = None,
) -> PlatformReading:
    """Read the chosen components concurrently; each is given its timeout plus a margin."""
    now = now or datetime.now(UTC)
    platform = settings.platform
    plans: dict[str, tuple[Callable[[], Any], float, Callable[[str], Any]]] = {
        PGBOUNCER: (lambda: _read_pgbouncer(settings, conn), platform.pgbouncer.timeout,
                    lambda why: PgBouncerReading(Verdict.UNKNOWN, why)),
        REDIS: (lambda: _read_redis(settings, conn), platform.redis.timeout,
                lambda why: RedisReading(Verdict.UNKNOWN, why)),
        ALERTS: (lambda: _read_alerts(settings, conn), platform.alertmanager.timeout,
                 lambda why: AlertsReading(Verdict.UNKNOWN, why)),
        CERTIFICATES: (lambda: _read_certificates(settings, conn, now), 30.0,
                       lambda why: CertificatesReading(Verdict.UNKNOWN, why)),
    }  # fmt: skip
    started = time.monotonic()
    handles = {}
    for name in COMPONENTS:
        if name in components:
            fn, timeout, fallback = plans[name]
            deadline = timeout + DEADLINE_MARGIN
            handles[name] = (_run_with_deadline(fn, deadline, fallback), deadline)
    results = {
        name: handle.result(deadline - (time.monotonic() - started))
        for name, (handle, deadline) in handles.items()
    }
    return PlatformReading(read_at=now, duration=round(time.monotonic() - started, 3), **{
        {ALERTS: "alerts"}.get(name, name): value for name, value in results.items()
    })  # fmt: skip


def platform_reader(settings: Settings) -> Callable[[KubeConnection], PlatformReading]:
    """How the live fleet reads the platform through its own connection, every component
    (fleet/platform_poller.py calls it every platform.interval seconds)."""

    def read(conn: KubeConnection) -> PlatformReading:
        return read_platform(settings, conn)

    return read
