import json
import socket
import threading

import pytest
import trustme

from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.settings import WebSettings
from tests.probes.servers import ServerThread

HOSTS = [
    "healthy.nc.test",
    "maint.nc.test",
    "untrusted.nc.test",
    "html.nc.test",
    "broken.nc.test",
    "slow.nc.test",
]
STATUS = {
    "installed": True,
    "maintenance": False,
    "needsDbUpgrade": False,
    "version": "30.0.6.2",
    "versionstring": "30.0.6",
}

release_slow = threading.Event()


def respond(method, path, headers):
    host = headers.get("host", "")
    assert path == "/status.php"
    if host == "healthy.nc.test":
        return 200, {"Content-Type": "application/json"}, json.dumps(STATUS).encode()
    if host == "maint.nc.test":
        body = STATUS | {"maintenance": True}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
    if host == "html.nc.test":
        return 200, {"Content-Type": "text/html"}, b"<html>login</html>"
    if host == "broken.nc.test":
        return 503, {}, b""
    if host == "slow.nc.test":
        release_slow.wait(5)
        return 200, {}, b"{}"
    return 400, {}, json.dumps({"error": "Trusted domain error.", "code": 15}).encode()


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def server(ca):
    context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    ca.issue_cert(*HOSTS).configure_cert(context)
    with ServerThread(respond, context) as srv:
        yield srv
    release_slow.set()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def prober(server, ca_file, **kwargs):
    settings = {"connect_to": f"127.0.0.1:{server.port}", "ca_file": ca_file, "timeout": 5.0}
    return StatusPhpProber(WebSettings(**(settings | kwargs)))


@pytest.mark.timeout(10)
def test_healthy_tenant_reached_through_connect_to_with_host_and_sni(server, ca_file):
    result = prober(server, ca_file).probe("healthy.nc.test")
    assert result.ok and result.http_status == 200 and result.error == ""
    assert result.version == "30.0.6.2" and result.versionstring == "30.0.6"
    assert result.maintenance is False and result.installed is True
    _method, _path, headers, _ = server.requests[-1]
    assert headers["host"] == "healthy.nc.test"
    assert result.latency_ms > 0


@pytest.mark.timeout(10)
def test_maintenance_is_answered_200_but_not_healthy(server, ca_file):
    result = prober(server, ca_file).probe("maint.nc.test")
    assert not result.ok and result.maintenance is True and result.error == "maintenance mode"


@pytest.mark.timeout(10)
def test_precise_errors(server, ca_file):
    probe = prober(server, ca_file)
    assert probe.probe("untrusted.nc.test").error == "trusted domain error: host not trusted"
    assert probe.probe("html.nc.test").error == "HTML answer instead of JSON"
    broken = probe.probe("broken.nc.test")
    assert broken.error == "HTTP 503" and broken.http_status == 503


@pytest.mark.timeout(10)
def test_timeout_is_reported_with_the_limit(server, ca_file):
    result = prober(server, ca_file, timeout=0.3).probe("slow.nc.test")
    assert not result.ok and result.error == "timeout after 0.3 s"


@pytest.mark.timeout(10)
def test_tls_is_verified_for_the_tenant_hostname(server, ca_file, tmp_path):
    # The certificate does not cover this name: verification must fail even though the
    # connection goes to the right address.
    result = prober(server, ca_file).probe("other.example.org")
    assert not result.ok and result.error.startswith("TLS error")
    # Without the CA file the system trust store does not know the test CA.
    result = prober(server, None).probe("healthy.nc.test")
    assert result.error.startswith("TLS error")
    # insecure skips verification.
    assert prober(server, None, insecure=True).probe("healthy.nc.test").ok


@pytest.mark.timeout(10)
def test_connection_refused(ca_file):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    web = WebSettings(connect_to=f"127.0.0.1:{port}", ca_file=ca_file, timeout=5.0)
    result = StatusPhpProber(web).probe("healthy.nc.test")
    assert result.error == f"connection refused by 127.0.0.1:{port}"
