"""The tenants' database clients in the real PgBouncer behind the simulator: each tenant's
Nextcloud keeps a connection open (its pool shows in SHOW POOLS), and a tenant with the
`pgbouncer_saturated` fault holds every server connection of its pool in open transactions
while more of its clients queue for one, until PgBouncer's max_client_conn is reached.

That is the demo's broken tenant for real: PgBouncer says the clients wait, then refuses new
ones, and the console reads it from PgBouncer's own admin console. Clients PgBouncer drops
(query_wait_timeout, a restart) are opened again every few seconds, as Nextcloud's would be.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field

import psycopg

log = logging.getLogger(__name__)
CHECK_EVERY = 5.0  # seconds between looks at the clients
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class DatabaseAccess:
    """What the simulated tenants need to be PgBouncer clients: PostgreSQL itself (to create
    their databases, as the superuser), PgBouncer's address and its client login."""

    postgres_port: int
    pgbouncer_port: int
    user: str
    password: str = field(repr=False)
    max_client_conn: int
    pool_size: int
    host: str = "127.0.0.1"


def database_of(tenant: str) -> str:
    """The tenant's database, as the console's default platform.pgbouncer.database_pattern
    (nc_{tenant}) reads it back: a `-` becomes `_`."""
    return "nc_" + tenant.replace("-", "_")


class PlatformLoad:
    """`start()` opens the clients on a thread, `stop()` closes them all."""

    def __init__(self, access: DatabaseAccess, tenants: list[str], saturated: list[str]) -> None:
        self.access = access
        self.tenants = list(tenants)
        self.saturated = [t for t in saturated if t in self.tenants]
        self._idle: dict[str, psycopg.Connection | None] = {}
        self._holding: dict[str, list[psycopg.Connection]] = {t: [] for t in self.saturated}
        self._waiting: dict[str, list[psycopg.Connection]] = {t: [] for t in self.saturated}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim pgbouncer load", daemon=True)

    @property
    def waiting_per_saturated(self) -> int:
        """Clients left to queue per saturated tenant: every slot of max_client_conn but one,
        which stays free for the console's admin login (at the limit PgBouncer refuses it
        too, and the console could then not say whose clients wait)."""
        a = self.access
        others = len(self.tenants) - len(self.saturated) + a.pool_size * len(self.saturated)
        free = a.max_client_conn - 1 - others
        return max(1, free // max(1, len(self.saturated)))

    @property
    def queued(self) -> int:
        """Clients of saturated tenants queued in PgBouncer now (as last looked at)."""
        return sum(len(group) for group in self._waiting.values())

    def start(self) -> PlatformLoad:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(CONNECT_TIMEOUT * 2)
        self._close_all()

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._create_databases()
        except psycopg.Error as err:
            log.warning("cannot create the tenant databases in PostgreSQL: %s", err)
            return
        while not self._stopping.is_set():
            try:
                self._top_up()
            except Exception:  # keep trying: PgBouncer may be restarting
                log.exception("PgBouncer clients")
            self._stopping.wait(CHECK_EVERY)

    def _create_databases(self) -> None:
        a = self.access
        with psycopg.connect(
            host=a.host, port=a.postgres_port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=CONNECT_TIMEOUT,
        ) as conn:  # fmt: skip
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for tenant in self.tenants:
                name = database_of(tenant)
                if name not in existing:
                    conn.execute(f'CREATE DATABASE "{name}"')

    def _connect(self, tenant: str, **kwargs: object) -> psycopg.Connection:
        a = self.access
        return psycopg.connect(
            host=a.host, port=a.pgbouncer_port, user=a.user, password=a.password,
            dbname=database_of(tenant), connect_timeout=CONNECT_TIMEOUT,
            application_name=f"nextcloud-{tenant}", **kwargs,
        )  # fmt: skip

    def _top_up(self) -> None:
        for tenant in self.tenants:
            if self._stopping.is_set():
                return
            if tenant in self._holding:
                self._saturate(tenant)
            else:
                self._keep_idle(tenant)

    def _keep_idle(self, tenant: str) -> None:
        """One connection per tenant that runs a query now and then, as a Nextcloud does."""
        conn = self._idle.get(tenant)
        try:
            if conn is None or conn.closed:
                conn = self._idle[tenant] = self._connect(tenant, autocommit=True)
            conn.execute("SELECT 1")
        except psycopg.Error:
            self._idle[tenant] = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _saturate(self, tenant: str) -> None:
        holding = self._holding[tenant] = [c for c in self._holding[tenant] if _in_transaction(c)]
        while len(holding) < self.access.pool_size and not self._stopping.is_set():
            conn = self._connect(tenant)  # not autocommit: the query opens a transaction
            conn.execute("SELECT 1")  # ... that keeps its server connection while it is open
            holding.append(conn)
        waiting = self._waiting[tenant] = [c for c in self._waiting[tenant] if _still_waiting(c)]
        while len(waiting) < self.waiting_per_saturated and not self._stopping.is_set():
            conn = self._connect(tenant, autocommit=True)
            # Sent without waiting for the answer: the client queues in PgBouncer for a
            # server connection, as long as the pool is held (up to query_wait_timeout).
            conn.pgconn.send_query(b"SELECT 1")
            waiting.append(conn)

    def _close_all(self) -> None:
        conns = [c for c in self._idle.values() if c is not None]
        conns += [c for group in self._holding.values() for c in group]
        conns += [c for group in self._waiting.values() for c in group]
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()


def _in_transaction(conn: psycopg.Connection) -> bool:
    ok = not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    if not ok:
        with contextlib.suppress(Exception):
            conn.close()
    return ok


def _still_waiting(conn: psycopg.Connection) -> bool:
    """Still queued: no answer yet (PgBouncer drops a client after query_wait_timeout)."""
    try:
        conn.pgconn.consume_input()
        if conn.pgconn.is_busy():
            return True
    except psycopg.Error:
        pass
    with contextlib.suppress(Exception):
        conn.close()
    return False
