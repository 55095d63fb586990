"""status.php failing in every way a tenant's web front can: each becomes one line on the
tenant's probe result, the tenant's health reason says "status.php: <that line>", the version
cell reads "✖ down" - and a slow tenant never holds up the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.fleet.state import FleetState
from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.render.cells import version_text
from ncconsole.settings import WebSettings
from ncconsole.sim.simulator import Simulator
from tests.faults.conftest import live_fleet, sim_settings, simulator
from tests.probes.servers import ServerThread

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 0.5
TENANTS = [
    {"name": "fine", "wave": 0, "replicas": 1},
    {"name": "slow", "wave": 1, "replicas": 1, "faults": {"statusphp_slow": 1.5}},
    {"name": "broken", "wave": 1, "replicas": 1, "faults": {"statusphp_500": True}},
    {"name": "renamed", "wave": 1, "replicas": 1},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with simulator(tmp_path_factory.mktemp("web"), TENANTS) as running:
        # The tenant's config.php no longer lists its hostname (a botched rename).
        renamed = running.instance("renamed")
        running.call(renamed.system_config.__setitem__, "trusted_domains", ["old.example.com"])
        yield running


@pytest.fixture(scope="module")
def fleet(sim: Simulator) -> Iterator[FleetState]:
    settings = sim_settings(sim, web={"timeout": TIMEOUT, "interval": 0.5}, s3={"interval": 600.0})
    state = live_fleet(settings, probes=True)
    yield state
    state.stop()


def probed(fleet: FleetState, name: str) -> TenantState:
    def ready(snapshot: FleetSnapshot) -> bool:
        tenant = snapshot.tenant(name)
        return tenant is not None and tenant.web is not None

    return fleet.wait_for(ready, 15).tenant(name)  # type: ignore[return-value]


def web_settings(port: int, **extra: object) -> WebSettings:
    return WebSettings(connect_to=f"127.0.0.1:{port}", timeout=TIMEOUT, **extra)


def test_timeout_is_one_line_and_does_not_delay_other_tenants(fleet: FleetState) -> None:
    slow = probed(fleet, "slow")
    assert slow.web is not None and not slow.web.ok
    assert slow.web.error == f"timeout after {TIMEOUT:g} s"
    assert (slow.health, slow.reason) == (
        Health.DEGRADED,
        f"status.php: timeout after {TIMEOUT:g} s",
    )
    assert version_text(slow.web).plain == "✖ down"
    fine = probed(fleet, "fine")
    assert fine.web is not None and fine.web.ok and fine.health is Health.HEALTHY
    assert fine.web.latency_ms < 1000 * TIMEOUT  # answered while "slow" was still waiting


def test_http_500_is_named(fleet: FleetState) -> None:
    broken = probed(fleet, "broken")
    assert broken.web is not None and broken.web.http_status == 500
    assert broken.reason == "status.php: HTTP 500"
    assert version_text(broken.web).plain == "✖ down"


def test_untrusted_domain_400_is_named(fleet: FleetState) -> None:
    renamed = probed(fleet, "renamed")
    assert renamed.web is not None and renamed.web.http_status == 400
    assert renamed.reason == "status.php: trusted domain error: host not trusted"


def test_html_instead_of_json_is_named() -> None:
    """A proxy or login portal answering 200 with a web page instead of Nextcloud's JSON."""
    page = b"<!DOCTYPE html><html><body><h1>Please log in</h1></body></html>"

    def respond(method: str, path: str, headers: dict[str, str]):
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    with ServerThread(respond) as server:
        prober = StatusPhpProber(web_settings(server.port, scheme="http"))
        try:
            result = prober.probe("fine.nextcloud.example.com")
        finally:
            prober.close()
    assert (result.ok, result.http_status) == (False, 200)
    assert result.error == "HTML answer instead of JSON"
    assert version_text(result).plain == "✖ down"


def test_tls_error_with_the_wrong_ca_is_named(sim: Simulator, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    port = int(sim.web_address.rsplit(":", 1)[1])
    prober = StatusPhpProber(web_settings(port, ca_file=other_ca))
    try:
        result = prober.probe("fine.nextcloud.example.com")
    finally:
        prober.close()
    assert not result.ok and result.http_status is None
    assert result.error.startswith("TLS error: ")
    assert "CERTIFICATE_VERIFY_FAILED" in result.error and "\n" not in result.error
    # The right CA makes the same request succeed: the failure is the trust, nothing else.
    good = StatusPhpProber(web_settings(port, ca_file=sim.ca_file))
    try:
        assert good.probe("fine.nextcloud.example.com").ok
    finally:
        good.close()


def test_tls_error_without_a_ca_file_for_a_private_ca(sim: Simulator) -> None:
    """No web.ca_file: the system trust store is used, and a private CA is not in it."""
    port = int(sim.web_address.rsplit(":", 1)[1])
    prober = StatusPhpProber(web_settings(port))
    try:
        result = prober.probe("fine.nextcloud.example.com")
    finally:
        prober.close()
    assert result.error.startswith("TLS error: ") and "\n" not in result.error
