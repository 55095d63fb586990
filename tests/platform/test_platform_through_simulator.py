"""The whole path as an engineer outside the cluster takes it: the console's settings name
Services in the platform namespace and credential Secrets; the console port-forwards through
the (simulated) Kubernetes API to the platform pods, behind which the real PgBouncer, Redis and
Alertmanager answer. A saturated PgBouncer shows on the tenant it hurts."""

from __future__ import annotations

import json
import threading
import time

from sim_platform import console_connection, run_cli, servers_of, simulator

from ncconsole.ops.platform import read_platform
from ncconsole.platform.model import Verdict
from ncconsole.platform.reading import PGBOUNCER, PGBOUNCER_WAITING

TENANTS = [{"name": "canary", "wave": 0}, {"name": "gemeente-zwolle", "wave": 1}]


def test_platform_reads_every_component_through_port_forwards_to_the_real_servers(
    real_platform, tmp_path
):
    with simulator(tmp_path / "sim", TENANTS, servers_of(real_platform)) as sim:
        result = run_cli(sim, "platform", "--format", "json")
        table = run_cli(sim, "platform")
    record = json.loads(result.stdout)
    # Alertmanager is the session's: other tests' alerts may fire there, or not.
    assert record["verdict"] == record["alertmanager"]["verdict"] or record["verdict"] == "ok"
    assert result.returncode == (0 if record["verdict"] in ("ok", "warning") else 1)
    assert [record[k]["verdict"] for k in ("pgbouncer", "redis")] == ["ok", "ok"]
    assert record["pgbouncer"]["via"] == "port-forward to nc-platform/pgbouncer"
    assert record["pgbouncer"]["max_client_conn"] == real_platform.pgbouncer_max_client_conn
    assert record["redis"]["via"] == "port-forward to nc-platform/redis"
    assert record["redis"]["maxmemory"] == 16 * 1024 * 1024
    assert record["alertmanager"]["via"] == "port-forward to monitoring/alertmanager"
    assert record["alertmanager"]["verdict"] in ("ok", "problem", "warning")  # shared alerts
    assert record["certificates"]["verdict"] == "ok"
    assert len(record["certificates"]["certificates"]) == 2
    assert real_platform.redis_password not in result.stdout + table.stdout
    assert real_platform.pgbouncer_admin_password not in result.stdout + table.stdout
    assert table.returncode == result.returncode
    assert "PgBouncer" in table.stdout and "Redis" in table.stdout


def test_a_saturated_pgbouncer_names_the_tenant_waiting_through_the_port_forward(
    real_platform, tmp_path, monkeypatch
):
    database = "nc_gemeente_zwolle"
    real_platform.create_database(database)
    holders = [
        real_platform.tenant_connection(database) for _ in range(real_platform.pgbouncer_pool_size)
    ]
    waiters: list[threading.Thread] = []
    try:
        for conn in holders:
            conn.execute("SELECT 1")  # keeps its server connection: the pool is used up

        def query() -> None:
            with real_platform.tenant_connection(database) as conn:
                conn.execute("SELECT 1")

        waiters = [threading.Thread(target=query, daemon=True) for _ in range(2)]
        for thread in waiters:
            thread.start()
        with simulator(tmp_path / "sim", TENANTS, servers_of(real_platform)) as sim:
            settings, conn = console_connection(sim, monkeypatch)
            deadline = time.monotonic() + 30
            while True:
                reading = read_platform(settings, conn, components=(PGBOUNCER,))
                if reading.pgbouncer.clients_queued >= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            cli = run_cli(sim, "platform", "--format", "json")
    finally:
        for held in holders:
            held.close()
        for thread in waiters:
            thread.join(30)
    assert reading.pgbouncer.verdict is Verdict.PROBLEM, reading.pgbouncer
    assert reading.pgbouncer.waiting_tenants == ("gemeente-zwolle",)
    assert reading.tenant_problems("gemeente-zwolle") == [f"{PGBOUNCER_WAITING} (2 waiting)"]
    assert reading.tenant_problems("canary") == []
    assert cli.returncode == 1, cli.stderr
    record = json.loads(cli.stdout)
    assert record["pgbouncer"]["waiting_tenants"] == ["gemeente-zwolle"]
    assert record["tenants"]["gemeente-zwolle"] == [f"{PGBOUNCER_WAITING} (2 waiting)"]


def test_a_pod_with_no_server_behind_it_is_unknown_with_the_pods_own_error(tmp_path, monkeypatch):
    """Without real servers the platform pods refuse the forwarded port, as a pod whose server
    is down does; the reading says so and the other components are still read."""
    with simulator(tmp_path / "sim", TENANTS) as sim:
        settings, conn = console_connection(sim, monkeypatch)
        settings = settings.model_copy(
            update={"platform": settings.platform.model_copy(update={
                "pgbouncer": settings.platform.pgbouncer.model_copy(
                    update={"service": "pgbouncer", "timeout": 3}),
                "redis": settings.platform.redis.model_copy(
                    update={"service": "no-such-redis", "timeout": 3}),
            })}
        )  # fmt: skip
        reading = read_platform(settings, conn)
        default = run_cli(sim, "platform", "--format", "json")
    assert reading.pgbouncer.verdict is Verdict.UNKNOWN
    assert reading.pgbouncer.reason.startswith(
        "unreachable: port-forward to nc-platform/pgbouncer: error forwarding port 6432 to pod "
        "pgbouncer-"
    )
    assert reading.pgbouncer.reason.endswith("connection refused")
    assert reading.redis.verdict is Verdict.UNKNOWN
    assert reading.redis.reason == "unreachable: Service nc-platform/no-such-redis not found"
    assert reading.certificates.verdict is Verdict.OK
    # The simulator's own settings leave out the components it has no server for.
    record = json.loads(default.stdout)
    assert default.returncode == 0, default.stderr
    assert [record[k]["verdict"] for k in ("pgbouncer", "redis", "alertmanager")] == [
        "not configured"
    ] * 3
