"""The live fleet reads the shared platform every platform.interval seconds through the
simulator's port-forwards to the real servers, and each tenant's state carries what it says:
a tenant whose clients queue at PgBouncer is degraded "waiting for a PgBouncer connection", an
alert firing on a tenant is counted on it, a certificate about to expire is said."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from sim_platform import console_connection, firing, servers_of, simulator

from ncconsole.fleet.model import FleetSnapshot, Health
from ncconsole.fleet.state import FleetState
from ncconsole.ops.platform import platform_reader
from ncconsole.platform.model import Verdict
from ncconsole.platform.reading import PGBOUNCER_WAITING

pytestmark = pytest.mark.timeout(300)

TENANTS = [
    {"name": "canary", "wave": 0, "faults": {"certificate_expires_in": 5}},
    {"name": "gemeente-zwolle", "wave": 1, "faults": {"pgbouncer_saturated": True}},
    {"name": "leiden", "wave": 1},
]


def wait_for(fleet: FleetState, what: str, check: Callable[[FleetSnapshot], bool]) -> FleetSnapshot:
    deadline = time.monotonic() + 90
    while True:
        snapshot = fleet.snapshot
        if check(snapshot):
            return snapshot
        if time.monotonic() > deadline:
            tenants = {t.name: (t.health.value, t.reason) for t in snapshot.tenants}
            raise AssertionError(f"{what} not seen; tenants: {tenants}")
        time.sleep(0.1)


def test_the_fleet_names_the_tenant_pgbouncer_queues_and_its_alerts(
    real_platform, tmp_path, monkeypatch
):
    alertname = f"NextcloudDown{uuid.uuid4().hex[:6]}"
    with simulator(tmp_path / "sim", TENANTS, servers_of(real_platform, clients=True)) as sim:
        settings, conn = console_connection(sim, monkeypatch)
        settings = settings.model_copy(
            update={"platform": settings.platform.model_copy(update={"interval": 2})}
        )
        fleet = FleetState(
            settings, connection=conn, probes=True, platform_reader=platform_reader(settings)
        )
        fleet.start()
        try:
            snapshot = wait_for(
                fleet, "gemeente-zwolle waiting for PgBouncer, at max_client_conn",
                lambda s: (t := s.tenant("gemeente-zwolle")) is not None
                and t.reason.startswith(PGBOUNCER_WAITING)
                and s.platform_reading.pgbouncer.max_clients_reached,
            )  # fmt: skip
            reading = snapshot.platform_reading
            assert reading is not None and reading.read_at is not None
            assert reading.pgbouncer.verdict is Verdict.PROBLEM
            assert reading.pgbouncer.max_clients_reached  # the sim fills up to max_client_conn
            zwolle = snapshot.tenant("gemeente-zwolle")
            assert zwolle.health is Health.DEGRADED
            assert zwolle.platform.pools[0].clients_waiting >= 1
            canary = snapshot.tenant("canary")
            assert canary.platform.problems == ["certificate expires in 5 d"]
            leiden = snapshot.tenant("leiden")
            assert leiden.platform.pools and not leiden.platform.pools[0].clients_waiting
            assert leiden.platform.alerts_known and leiden.platform.firing == ()

            labels = {"alertname": alertname, "severity": "critical", "namespace": "nc-leiden"}
            with firing(real_platform.alertmanager_url, labels):
                snapshot = wait_for(
                    fleet, "the alert on leiden",
                    lambda s: [a.name for a in s.tenant("leiden").platform.firing] == [alertname],
                )  # fmt: skip
                leiden = snapshot.tenant("leiden")
                assert leiden.health is Health.DEGRADED
                assert leiden.reason == f"alert {alertname} (critical)"
        finally:
            fleet.stop()
