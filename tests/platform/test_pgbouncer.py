"""The PgBouncer reading against a real PgBouncer: clients queue when a tenant's pool is busy,
and new connections are refused at max_client_conn; the reading names the tenants hurt."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from ncconsole.platform.model import Endpoint, Verdict
from ncconsole.platform.pgbouncer import PgBouncerReading, judge, read_pgbouncer
from ncconsole.platform.reading import PGBOUNCER_WAITING, tenant_findings
from ncconsole.platform.tenants import tenant_of_database

pytestmark = pytest.mark.timeout(300)  # may be the first test to wait for the session's servers
PATTERN = "nc_{tenant}"


def admin(platform, password: str | None = None) -> Endpoint:
    return Endpoint(
        "127.0.0.1",
        platform.pgbouncer_port,
        platform.pgbouncer_admin_user,
        platform.pgbouncer_admin_password if password is None else password,
    )


def read(platform) -> PgBouncerReading:
    return read_pgbouncer(admin(platform), lambda db: tenant_of_database(db, PATTERN), timeout=5)


def wait_for(
    platform, condition: Callable[[PgBouncerReading], bool], what: str
) -> PgBouncerReading:
    """Read PgBouncer until `condition` holds for the reading; that reading."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reading = read(platform)
        if condition(reading):
            return reading
        time.sleep(0.1)
    raise AssertionError(f"not seen within 30 s: {what}")


@contextlib.contextmanager
def busy_pool(platform, database: str, waiters: int) -> Iterator[list[threading.Thread]]:
    """Every server connection of `database`'s pool held in an open transaction, and
    `waiters` more clients each running a query that must wait for one."""
    holders = [platform.tenant_connection(database) for _ in range(platform.pgbouncer_pool_size)]
    threads: list[threading.Thread] = []
    try:
        for conn in holders:
            conn.execute("SELECT 1")  # opens a transaction: transaction pooling keeps the server
        for _ in range(waiters):

            def wait_for_server() -> None:
                with platform.tenant_connection(database) as conn:
                    conn.execute("SELECT 1")

            thread = threading.Thread(target=wait_for_server, daemon=True)
            thread.start()
            threads.append(thread)
        yield threads
    finally:
        for conn in holders:
            conn.close()
        for thread in threads:
            thread.join(30)


def test_tenant_clients_waiting_for_a_server_connection_are_a_problem_named_by_tenant(
    real_platform,
):
    real_platform.create_database("nc_queue-alpha")
    real_platform.create_database("nc_queue_bravo")
    with real_platform.tenant_connection("nc_queue_bravo") as quiet:
        quiet.execute("SELECT 1")
    with busy_pool(real_platform, "nc_queue-alpha", waiters=3) as waiters:
        reading = wait_for(
            real_platform, lambda r: r.clients_queued >= 3, "3 clients waiting in PgBouncer"
        )
        assert reading.verdict is Verdict.PROBLEM
        assert reading.waiting_tenants == ("queue-alpha",)
        alpha = reading.pools_of("queue-alpha")[0]
        assert (alpha.clients_waiting, alpha.servers_active, alpha.pool_size) == (
            3,
            real_platform.pgbouncer_pool_size,
            real_platform.pgbouncer_pool_size,
        )
        # The `_` of a database name reads as the tenant name's `-`.
        assert reading.pools_of("queue-bravo")[0].clients_waiting == 0
        assert any("tenant queue-alpha: 3 clients waiting" in f for f in reading.findings)
        assert reading.max_client_conn == real_platform.pgbouncer_max_client_conn
        assert reading.pool_mode == "transaction"
    assert all(not t.is_alive() for t in waiters), "the waiting clients got their connection"
    after = wait_for(real_platform, lambda r: r.clients_queued == 0, "no client waiting")
    assert after.verdict is Verdict.OK and after.findings == ()


def test_max_client_conn_reached_is_a_problem_even_when_the_admin_login_is_refused(real_platform):
    real_platform.create_database("nc_crowd")
    opened: list[psycopg.Connection] = []
    try:
        with pytest.raises(psycopg.OperationalError, match="max_client_conn"):
            for _ in range(real_platform.pgbouncer_max_client_conn + 1):
                opened.append(real_platform.tenant_connection("nc_crowd"))
        reading = read(real_platform)
        assert reading.verdict is Verdict.PROBLEM
        assert "max_client_conn reached" in reading.findings[0]
        # One client fewer: the console gets in and sees the fleet at the limit.
        opened.pop().close()
        reading = wait_for(real_platform, lambda r: bool(r.pools), "the pools read")
        assert reading.verdict is Verdict.PROBLEM
        assert reading.clients_used == reading.max_client_conn
        assert reading.findings[0].startswith(
            f"max_client_conn reached ({reading.max_client_conn}/{reading.max_client_conn})"
        )
    finally:
        for conn in opened:
            conn.close()
    calm = wait_for(real_platform, lambda r: r.clients_used < 5, "the clients gone")
    assert calm.verdict is Verdict.OK


def test_a_refused_login_or_a_closed_port_is_unknown_with_the_reason(real_platform):
    refused = read_pgbouncer(admin(real_platform, "wrong"), lambda db: None, timeout=5)
    assert refused.verdict is Verdict.UNKNOWN
    assert (
        refused.reason.startswith("unreachable: ") and "refused the admin login" in refused.reason
    )
    assert "wrong" not in refused.reason
    closed = read_pgbouncer(Endpoint("127.0.0.1", 1, "x", "y"), lambda db: None, timeout=2)
    assert closed.verdict is Verdict.UNKNOWN and "refused" in closed.reason.lower()


def test_database_names_map_to_tenants():
    assert tenant_of_database("nc_gemeente_zwolle", "nc_{tenant}") == "gemeente-zwolle"
    assert tenant_of_database("nc_gemeente-zwolle", "nc_{tenant}") == "gemeente-zwolle"
    assert tenant_of_database("nextcloud_alpha_db", "nextcloud_{tenant}_db") == "alpha"
    assert tenant_of_database("pgbouncer", "nc_{tenant}") is None
    assert tenant_of_database("keycloak", "nc_{tenant}") is None


def test_a_client_waiting_only_while_its_server_connection_opens_is_no_queue():
    """cl_waiting counts a client for the moment PgBouncer logs in a server connection for it;
    only a wait that lasts (maxwait, the oldest client's) makes the tenant's clients queue."""

    def pool(database: str, waiting: int, maxwait: int, maxwait_us: int) -> dict[str, object]:
        return {"database": database, "user": "nextcloud", "cl_active": 1,
                "cl_waiting": waiting, "sv_active": 1, "sv_idle": 0, "sv_used": 0,
                "maxwait": maxwait, "maxwait_us": maxwait_us,
                "pool_mode": "transaction"}  # fmt: skip

    def judged(*pools: dict[str, object]) -> PgBouncerReading:
        tenant_of = lambda name: tenant_of_database(name, "nc_{tenant}")  # noqa: E731
        config = {"max_client_conn": "100", "default_pool_size": "2"}
        return judge(config, list(pools), {}, [], {"used_clients": 3}, "1.23", tenant_of)

    opening = judged(pool("nc_alpha", 1, 0, 4_000))
    assert opening.verdict is Verdict.OK and opening.findings == ()
    assert opening.waiting_tenants == () and opening.clients_queued == 0
    assert opening.pools_of("alpha")[0].clients_waiting == 1  # the pool table still shows it

    queued = judged(pool("nc_alpha", 1, 0, 4_000), pool("nc_bravo", 3, 2, 500_000))
    assert queued.verdict is Verdict.PROBLEM
    assert queued.waiting_tenants == ("bravo",) and queued.clients_queued == 3
    assert queued.findings == (
        "tenant bravo: 3 clients waiting for a server connection (pool 1/2 busy, longest wait "
        "2.5 s)",
    )
    assert tenant_findings(queued.pools_of("alpha"), (), ()) == ()
    assert tenant_findings(queued.pools_of("bravo"), (), ()) == (
        (Verdict.PROBLEM, f"{PGBOUNCER_WAITING} (3 waiting)"),
    )
