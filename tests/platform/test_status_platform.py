"""`ncconsole status` reads the shared platform with the fleet: the JSON embeds the platform
record (as `ncconsole platform --format json` gives it) and each tenant's alerts and platform
problems, the table prints the components' line, and a saturated PgBouncer makes the exit 1."""

from __future__ import annotations

import json
import time

import pytest
from sim_platform import run_cli, servers_of, simulator

from ncconsole.platform.reading import PGBOUNCER_WAITING

pytestmark = pytest.mark.timeout(300)

TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "gemeente-zwolle", "wave": 1, "replicas": 1, "faults": {"pgbouncer_saturated": True}},
]


def test_status_embeds_the_platform_and_a_saturated_pgbouncer_fails_it(real_platform, tmp_path):
    with simulator(tmp_path / "sim", TENANTS, servers_of(real_platform, clients=True)) as sim:
        deadline = time.monotonic() + 60
        while True:  # the simulated clients need a moment to queue
            done = run_cli(sim, "status", "--format", "json")
            record = json.loads(done.stdout)
            waiting = record["platform_reading"]["pgbouncer"]["waiting_tenants"]
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(1)
        table = run_cli(sim, "status")
        only_canary = run_cli(sim, "status", "--wave", "0", "--format", "json")
    assert done.returncode == 1, done.stderr
    reading = record["platform_reading"]
    assert waiting == ["gemeente-zwolle"]
    assert reading["pgbouncer"]["via"] == "port-forward to nc-platform/pgbouncer"
    assert reading["redis"]["verdict"] == "ok"
    tenants = {t["name"]: t for t in record["tenants"]}
    zwolle = tenants["gemeente-zwolle"]
    assert zwolle["health"] == "degraded"
    assert zwolle["reason"].startswith(PGBOUNCER_WAITING)
    assert zwolle["platform_problems"][0].startswith(PGBOUNCER_WAITING)
    assert tenants["canary"]["health"] == "healthy" and tenants["canary"]["alerts_firing"] == 0
    assert reading["tenants"]["gemeente-zwolle"] == zwolle["platform_problems"]
    # The platform is shared: a wave of healthy tenants still exits 1 while PgBouncer is full.
    assert only_canary.returncode == 1
    assert [t["name"] for t in json.loads(only_canary.stdout)["tenants"]] == ["canary"]
    assert "PgBouncer ✖" in table.stdout and "waiting (gemeente-zwolle)" in table.stdout
    assert table.returncode == 1
    assert real_platform.pgbouncer_admin_password not in done.stdout + table.stdout
