"""`ncconsole sim --s3-endpoint` on the real RGW of conftest.py: the tenants' buckets are made
there, and `ncconsole status` reads RGW's object counts for them (moto has no such header)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(360)  # may be the first test to wait for the session's RGW


def test_sim_provisions_tenant_buckets_on_rgw_and_status_reads_their_stats(real_rgw, tmp_path):
    workdir = tmp_path / "sim"
    env = {**os.environ, "NCCONSOLE_SIM_S3_SECRET_KEY": real_rgw.secret_key}
    env.pop("KUBECONFIG", None)
    sim = subprocess.Popen(
        [sys.executable, "-m", "ncconsole", "sim", "--workdir", str(workdir),
         "--tenants", "2", "--waves", "1", "--s3-endpoint", real_rgw.endpoint,
         "--s3-access-key", real_rgw.access_key],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (workdir / "kubeconfig").exists():
            assert sim.poll() is None, sim.stdout.read().decode()
            assert time.monotonic() < deadline, "the simulator did not get ready in 60 s"
            time.sleep(0.1)
        status = subprocess.run(
            [sys.executable, "-m", "ncconsole", "status", "--format", "json"],
            env={**env, "NCCONSOLE_CONFIG": str(workdir / "config.yaml")},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        sim.send_signal(signal.SIGTERM)
        output = sim.communicate(timeout=30)[0].decode()
    assert real_rgw.secret_key not in output
    tenants = json.loads(status.stdout)["tenants"]
    assert len(tenants) == 2
    for tenant in tenants:
        assert tenant["s3"] == "ok", tenant
        assert tenant["s3_objects"] == 3 and tenant["s3_bytes"] > 0, tenant
