"""The tenant's bucket cannot be checked: missing, denied, slow, or S3 gone. Each is one state
word in the S3 column, one line on the probe, and the tenant's health reason - never a
listing of the bucket, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.probes.s3 import BucketProber
from ncconsole.render.cells import s3_text
from ncconsole.settings import S3Settings
from ncconsole.sim.simulator import Simulator
from tests.faults.conftest import live_fleet, sim_settings, simulator
from tests.probes.servers import ServerThread

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 0.5
TENANTS = [
    {"name": "fine", "wave": 0, "replicas": 1},
    {"name": "nobucket", "wave": 1, "replicas": 1, "faults": {"bucket_missing": True}},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with simulator(tmp_path_factory.mktemp("s3"), TENANTS) as running:
        yield running


def fleet_view(sim: Simulator, endpoint: str | None = None) -> FleetSnapshot:
    """One look at the fleet with bucket probes on (web probes out of the way)."""
    # moto's first answers can be slow on a busy machine
    s3 = {"timeout": 5.0, "interval": 600.0} | ({"endpoint": endpoint} if endpoint else {})
    state = live_fleet(sim_settings(sim, web={"interval": 600.0}, s3=s3), probes=True)
    try:
        return state.wait_for(
            lambda s: len(s.tenants) == 2 and all(t.s3 is not None for t in s.tenants), 15
        )
    finally:
        state.stop()


def probe(endpoint: str) -> object:
    prober = BucketProber(S3Settings(endpoint=endpoint, timeout=TIMEOUT))
    return prober.probe("nextcloud-fine", "AKIAEXAMPLE", "secret-example")


def tenant(snapshot: FleetSnapshot, name: str) -> TenantState:
    found = snapshot.tenant(name)
    assert found is not None
    return found


def test_missing_bucket_404(sim: Simulator) -> None:
    snapshot = fleet_view(sim)
    missing = tenant(snapshot, "nobucket")
    assert missing.s3 is not None and missing.s3.state == "missing"
    assert missing.s3.error == "bucket nextcloud-nobucket does not exist"
    assert (missing.health, missing.reason) == (Health.DEGRADED, "bucket missing")
    assert s3_text(missing.s3).plain == "✖ missing"
    fine = tenant(snapshot, "fine")
    assert fine.s3 is not None and fine.s3.state == "ok" and fine.health is Health.HEALTHY


def test_access_denied_403() -> None:
    """What RGW answers a HeadBucket signed with a wrong secret key (moto checks no
    signatures, so a small server stands in; the real-RGW tests cover RGW itself)."""

    def respond(method: str, path: str, headers: dict[str, str]):
        return 403, {"x-amz-request-id": "tx0001", "Content-Type": "application/xml"}, b""

    with ServerThread(respond) as server:
        result = probe(f"http://127.0.0.1:{server.port}")
    assert result.state == "denied"  # type: ignore[attr-defined]
    assert result.error == "access to bucket nextcloud-fine denied"  # type: ignore[attr-defined]
    assert s3_text(result).plain == "✖ denied"  # type: ignore[arg-type]


def test_timeout() -> None:
    """An endpoint that accepts the connection and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:
        result = probe(f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert result.state == "timeout"  # type: ignore[attr-defined]
    assert result.error == f"timeout after {TIMEOUT:g} s"  # type: ignore[attr-defined]
    assert result.latency_ms < 5000 * TIMEOUT  # type: ignore[attr-defined]  # no retry storm
    assert s3_text(result).plain == "⧗ timeout"  # type: ignore[arg-type]


def test_endpoint_down_marks_every_tenant_unreachable(sim: Simulator) -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"  # nothing listens there any more
    snapshot = fleet_view(sim, endpoint)
    for name in ("fine", "nobucket"):
        down = tenant(snapshot, name)
        assert down.s3 is not None and down.s3.state == "unreachable"
        assert down.s3.error == f"cannot reach {endpoint}"
        assert down.reason == "S3 unreachable" and down.health is Health.DEGRADED
        assert s3_text(down.s3).plain == "✖ unreachable"
