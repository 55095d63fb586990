"""PgBouncer's admin console (psycopg): per tenant database, clients active and waiting, server
connections, the longest wait, and the fleet's client total against `max_client_conn`.

A Deployment at 2/2 ready says nothing about this: PgBouncer stays Ready while it queues or
refuses the tenants' connections. Waiting clients are the saturation signal (PgBouncer's own
metric people alert on); reaching `max_client_conn` means new connections are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ncconsole.platform.model import Endpoint, Verdict, unreachable, worst

if TYPE_CHECKING:
    import psycopg

ADMIN_DATABASE = "pgbouncer"
# Share of max_client_conn in use from which the reading warns.
CLIENTS_WARNING_SHARE = 0.9
# Seconds the oldest waiting client of a pool has waited from which its clients queue.
QUEUE_AFTER = 1.0


@dataclass(frozen=True)
class PoolStats:
    """One PgBouncer pool (database, user): its clients and server connections."""

    database: str
    user: str
    tenant: str | None
    clients_active: int
    clients_waiting: int
    servers_active: int
    servers_idle: int
    servers_used: int
    max_wait: float  # seconds the oldest waiting client has waited
    pool_mode: str
    pool_size: int | None  # the database's pool size (None: unknown)

    @property
    def queueing(self) -> bool:
        """Clients queue for a server connection: some wait and the oldest has waited at least
        QUEUE_AFTER. A client is counted in cl_waiting for the moment PgBouncer opens a server
        connection for it too (after server_idle_timeout closed the last one); that is not a
        queue. PgBouncer's doc/usage.md on maxwait: 'If this starts increasing, then the
        current pool of servers does not handle requests quickly enough.'"""
        return self.clients_waiting > 0 and self.max_wait >= QUEUE_AFTER


def clients_queued(pools: Iterable[PoolStats]) -> int:
    """Clients queued for a server connection, over the pools that queue (a pool's own
    `clients_waiting` is PgBouncer's cl_waiting, brief waits included)."""
    return sum(p.clients_waiting for p in pools if p.queueing)


@dataclass(frozen=True)
class DatabaseTotals:
    """SHOW STATS for one database: counts since PgBouncer started."""

    database: str
    transactions: int
    queries: int
    wait_time: float  # seconds clients spent waiting for a server, in all
    avg_wait_time: float  # seconds per client that waited, recent average


@dataclass(frozen=True)
class PgBouncerReading:
    verdict: Verdict
    reason: str = ""  # why there is no reading ("not configured", "unreachable: ...")
    findings: tuple[str, ...] = ()
    via: str = ""
    pools: tuple[PoolStats, ...] = ()
    totals: tuple[DatabaseTotals, ...] = ()
    clients_used: int = 0  # client connections PgBouncer holds, over all pools
    max_client_conn: int | None = None
    default_pool_size: int | None = None
    pool_mode: str = ""
    servers_used: int = 0
    version: str = ""
    config: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def clients_queued(self) -> int:
        return clients_queued(self.pools)

    @property
    def waiting_tenants(self) -> tuple[str, ...]:
        """Tenants whose clients queue for a server connection, most queued first."""
        waiting: dict[str, int] = {}
        for pool in self.pools:
            if pool.tenant and pool.queueing:
                waiting[pool.tenant] = waiting.get(pool.tenant, 0) + pool.clients_waiting
        return tuple(sorted(waiting, key=lambda t: (-waiting[t], t)))

    @property
    def max_clients_reached(self) -> bool:
        return bool(self.max_client_conn) and self.clients_used >= (self.max_client_conn or 0)

    def pools_of(self, tenant: str) -> tuple[PoolStats, ...]:
        return tuple(p for p in self.pools if p.tenant == tenant)


def _rows(conn: psycopg.Connection[Any], command: str) -> list[dict[str, Any]]:
    cursor = conn.execute(command)
    names = [column.name for column in cursor.description or ()]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def read_pgbouncer(
    endpoint: Endpoint,
    tenant_of: Callable[[str], str | None],
    *,
    timeout: float = 5.0,
) -> PgBouncerReading:
    """Read the admin console at `endpoint` (a user in PgBouncer's admin_users or stats_users);
    `tenant_of` maps a database name to its tenant (None: not a tenant's)."""
    import psycopg  # here, not at import: the console starts ~40 ms and some MB lighter

    try:
        with psycopg.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=endpoint.username,
            password=endpoint.password,
            dbname=ADMIN_DATABASE,
            autocommit=True,  # the admin console knows no transactions
            connect_timeout=max(1, round(timeout)),
        ) as conn:
            config = {str(r["key"]): str(r["value"]) for r in _rows(conn, "SHOW CONFIG")}
            pools_raw = _rows(conn, "SHOW POOLS")
            databases = {str(r["name"]): r for r in _rows(conn, "SHOW DATABASES")}
            stats = _rows(conn, "SHOW STATS")
            lists = {str(r["list"]): _int(r["items"]) for r in _rows(conn, "SHOW LISTS")}
            version = _version(conn)
    except psycopg.Error as err:
        if "max_client_conn" in str(err):
            # At the limit PgBouncer refuses the console's own admin login too.
            return PgBouncerReading(
                Verdict.PROBLEM,
                findings=("max_client_conn reached: PgBouncer refused even the console's admin "
                          "connection; new connections are refused",),
                via=endpoint.label,
            )  # fmt: skip
        return PgBouncerReading(Verdict.UNKNOWN, _describe(err, endpoint), via=endpoint.label)
    except OSError as err:
        return PgBouncerReading(Verdict.UNKNOWN, unreachable(err), via=endpoint.label)
    return judge(config, pools_raw, databases, stats, lists, version, tenant_of, endpoint.label)


def _version(conn: psycopg.Connection[Any]) -> str:
    rows = _rows(conn, "SHOW VERSION")
    return str(next(iter(rows[0].values()))) if rows else ""


def _describe(err: psycopg.Error, endpoint: Endpoint) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "authentication failed" in text or "not allowed" in text:
        return f"unreachable: {endpoint.label} refused the admin login ({text})"
    return unreachable(text)


def judge(
    config: dict[str, str],
    pools_raw: list[dict[str, Any]],
    databases: dict[str, dict[str, Any]],
    stats: list[dict[str, Any]],
    lists: dict[str, int],
    version: str,
    tenant_of: Callable[[str], str | None],
    via: str = "",
) -> PgBouncerReading:
    """The reading from the admin console's answers (no I/O)."""
    default_pool_size = _int(config.get("default_pool_size")) or None
    pools = []
    for row in pools_raw:
        name = str(row["database"])
        if name == ADMIN_DATABASE:
            continue
        database = databases.get(name) or {}
        pool_size = _int(database.get("pool_size")) if database else 0
        # maxwait is whole seconds, maxwait_us the microseconds on top.
        max_wait = _int(row.get("maxwait")) + _int(row.get("maxwait_us")) / 1_000_000
        pools.append(
            PoolStats(
                database=name,
                user=str(row.get("user") or ""),
                tenant=tenant_of(name),
                clients_active=_int(row.get("cl_active")),
                clients_waiting=_int(row.get("cl_waiting")),
                servers_active=_int(row.get("sv_active")),
                servers_idle=_int(row.get("sv_idle")),
                servers_used=_int(row.get("sv_used")),
                max_wait=max_wait,
                pool_mode=str(row.get("pool_mode") or config.get("pool_mode") or ""),
                pool_size=pool_size if pool_size > 0 else default_pool_size,
            )
        )
    totals = tuple(
        DatabaseTotals(
            database=str(row["database"]),
            transactions=_int(row.get("total_xact_count")),
            queries=_int(row.get("total_query_count")),
            wait_time=_int(row.get("total_wait_time")) / 1_000_000,
            avg_wait_time=_int(row.get("avg_wait_time")) / 1_000_000,
        )
        for row in stats
        if str(row.get("database")) != ADMIN_DATABASE
    )
    max_client_conn = _int(config.get("max_client_conn")) or None
    clients_used = lists.get("used_clients", 0)
    verdicts, findings = [Verdict.OK], []
    if max_client_conn and clients_used >= max_client_conn:
        verdicts.append(Verdict.PROBLEM)
        findings.append(
            f"max_client_conn reached ({clients_used}/{max_client_conn}): new connections "
            "are refused"
        )
    elif max_client_conn and clients_used >= CLIENTS_WARNING_SHARE * max_client_conn:
        verdicts.append(Verdict.WARNING)
        findings.append(f"clients near max_client_conn ({clients_used}/{max_client_conn})")
    for pool in sorted(pools, key=lambda p: (-p.clients_waiting, p.database)):
        if pool.queueing:
            verdicts.append(Verdict.PROBLEM)
            who = f"tenant {pool.tenant}" if pool.tenant else f"database {pool.database}"
            findings.append(
                f"{who}: {pool.clients_waiting} client{'s' if pool.clients_waiting != 1 else ''} "
                f"waiting for a server connection (pool {pool.servers_active}/"
                f"{pool.pool_size or '?'} busy, longest wait {pool.max_wait:.1f} s)"
            )
    return PgBouncerReading(
        verdict=worst(verdicts),
        findings=tuple(findings),
        via=via,
        pools=tuple(sorted(pools, key=lambda p: (p.database, p.user))),
        totals=totals,
        clients_used=clients_used,
        max_client_conn=max_client_conn,
        default_pool_size=default_pool_size,
        pool_mode=config.get("pool_mode", ""),
        servers_used=lists.get("used_servers", 0),
        version=version,
        config={k: config[k] for k in ("max_client_conn", "default_pool_size", "pool_mode",
                                       "reserve_pool_size", "max_db_connections") if k in config},
    )  # fmt: skip
