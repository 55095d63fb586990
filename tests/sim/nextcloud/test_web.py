import asyncio
import ssl
import threading
import time

import httpx
import pytest
import trustme

from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.occ import run_occ
from ncconsole.sim.nextcloud.web import NextcloudWeb
from ncconsole.sim.scenario import default_scenario

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def fleet():
    scenario = default_scenario(tenants=4, waves=1)
    tenants = scenario.tenants
    tenants[1].faults.maintenance = True
    tenants[2].faults.statusphp_500 = True
    tenants[3].faults.statusphp_slow = 1.0
    return {t.hostname: NextcloudInstance.for_tenant(t, "30.0.6-apache") for t in tenants}


def start(loop, fleet, ssl_context=None):
    server = NextcloudWeb(fleet.get, ssl_context=ssl_context)
    server.start_in(loop)
    return server


def get(server, host, path="/status.php", **kwargs):
    kwargs.setdefault("timeout", 5)
    return httpx.get(f"{server.url}{path}", headers={"Host": host}, **kwargs)


def test_status_php_routes_by_host_header(loop, fleet):
    server = start(loop, fleet)
    try:
        healthy = next(iter(fleet))
        response = get(server, healthy)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {
            "installed": True,
            "maintenance": False,
            "needsDbUpgrade": False,
            "version": "30.0.6.2",
            "versionstring": "30.0.6",
            "edition": "",
            "productname": "Nextcloud",
            "extendedSupport": False,
        }
        # a port in the Host header is fine, and host names are case-insensitive
        assert get(server, f"{healthy}:443").status_code == 200
        assert get(server, healthy.upper()).status_code == 200
    finally:
        server.stop_in(loop)


def test_maintenance_answers_200_and_follows_occ(loop, fleet):
    server = start(loop, fleet)
    try:
        hosts = list(fleet)
        response = get(server, hosts[1])
        assert response.status_code == 200 and response.json()["maintenance"] is True
        nc = fleet[hosts[0]]
        run_occ(nc, ["su", "-s", "/bin/sh", "www-data", "-c", "php occ maintenance:mode --on"])
        assert get(server, hosts[0]).json()["maintenance"] is True
        nc.deploy_image("30.0.8-apache", run_upgrade=False)
        body = get(server, hosts[0]).json()
        assert body["version"] == "30.0.8.2" and body["needsDbUpgrade"] is True
    finally:
        server.stop_in(loop)


def test_untrusted_or_unknown_host_is_the_trusted_domain_error(loop, fleet):
    server = start(loop, fleet)
    try:
        for host in ("unknown.example.org", "127.0.0.1"):
            response = get(server, host)
            assert response.status_code == 400
            assert response.text == '{"error": "Trusted domain error.", "code": 15}'
        host = next(iter(fleet))
        fleet[host].system_config["trusted_domains"] = ["other.example.com"]
        assert get(server, host).status_code == 400
    finally:
        server.stop_in(loop)


def test_faults_500_503_and_slow(loop, fleet):
    server = start(loop, fleet)
    try:
        hosts = list(fleet)
        failing = get(server, hosts[2])
        assert failing.status_code == 500 and failing.content == b""
        fleet[hosts[2]].web_error = 503
        assert get(server, hosts[2]).status_code == 503
        with pytest.raises(httpx.ReadTimeout):
            get(server, hosts[3], timeout=0.3)
        slow: list[tuple[int, float]] = []

        def fetch_slow():
            started = time.perf_counter()
            answer = get(server, hosts[3], timeout=15)
            slow.append((answer.status_code, time.perf_counter() - started))

        fleet[hosts[3]].web_delay = 5.0  # long enough that nothing else can outlast it
        worker = threading.Thread(target=fetch_slow)
        worker.start()
        # while the slow tenant is still answering, a healthy one answers: one slow
        # tenant never holds up the others
        assert get(server, hosts[0]).status_code == 200
        assert not slow, "the healthy tenant only answered after the slow one"
        worker.join(10)
        assert slow and slow[0][0] == 200 and slow[0][1] >= 4.9
    finally:
        server.stop_in(loop)


def test_other_paths_are_404(loop, fleet):
    server = start(loop, fleet)
    try:
        assert get(server, next(iter(fleet)), "/index.php").status_code == 404
    finally:
        server.stop_in(loop)


def test_https_with_a_generated_ca(loop, fleet):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    server = start(loop, fleet, server_ctx)
    try:
        assert server.url.startswith("https://127.0.0.1:")
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        response = get(server, next(iter(fleet)), verify=client_ctx)
        assert response.status_code == 200
    finally:
        server.stop_in(loop)
