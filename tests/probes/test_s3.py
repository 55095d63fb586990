import socket
import threading

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ncconsole.probes.s3 import BucketProber
from ncconsole.settings import S3Settings
from tests.probes.servers import ServerThread

release_slow = threading.Event()


def rgw(method, path, headers):
    """Answers HeadBucket like Ceph 20 RGW: stats headers only when ?read-stats is sent."""
    bucket, _, query = path.lstrip("/").partition("?")
    assert method == "HEAD"
    if bucket == "nextcloud-missing":
        return 404, {}, b""
    if bucket == "nextcloud-denied":
        return 403, {}, b""
    if bucket == "nextcloud-slow":
        release_slow.wait(5)
        return 200, {}, b""
    out = {}
    if "read-stats" in query.split("&"):
        out = {
            "X-RGW-Object-Count": "42",
            "X-RGW-Bytes-Used": "123456",
            "X-RGW-Quota-Bucket-Size": "-1",
            "X-RGW-Quota-Bucket-Objects": "1000",
        }
    return 200, out, b""


@pytest.fixture(scope="module")
def fake_rgw():
    with ServerThread(rgw) as server:
        yield server
    release_slow.set()


def prober(endpoint, **kwargs):
    return BucketProber(S3Settings(endpoint=endpoint, timeout=kwargs.pop("timeout", 5.0), **kwargs))


@pytest.mark.timeout(15)
def test_rgw_stats_are_read_with_the_read_stats_parameter_path_style(fake_rgw):
    result = prober(f"http://127.0.0.1:{fake_rgw.port}").probe("nextcloud-acme", "AK", "SK")
    assert result.state == "ok"
    assert (result.object_count, result.bytes_used) == (42, 123456)
    assert (result.quota_max_size, result.quota_max_objects) == (-1, 1000)
    _method, path, _headers, _ = fake_rgw.requests[-1]
    assert path == "/nextcloud-acme?read-stats"  # path-style, not acme.127.0.0.1


@pytest.mark.timeout(15)
def test_each_tenant_is_signed_with_its_own_keys(fake_rgw):
    probe = prober(f"http://127.0.0.1:{fake_rgw.port}")
    for key in ("AKIA-TENANT-A", "AKIA-TENANT-B", "AKIA-TENANT-A"):
        assert probe.probe("nextcloud-acme", key, "secret").state == "ok"
        authorization = fake_rgw.requests[-1][2]["authorization"]
        assert f"Credential={key}/" in authorization
        assert "secret" not in authorization


@pytest.mark.timeout(15)
def test_precise_failure_states(fake_rgw):
    probe = prober(f"http://127.0.0.1:{fake_rgw.port}")
    assert probe.probe("nextcloud-missing", "AK", "SK").state == "missing"
    assert probe.probe("nextcloud-denied", "AK", "SK").state == "denied"
    assert probe.probe("nextcloud-acme", None, None).state == "no-credentials"
    slow = prober(f"http://127.0.0.1:{fake_rgw.port}", timeout=0.3).probe(
        "nextcloud-slow", "AK", "SK"
    )
    assert slow.state == "timeout" and slow.error == "timeout after 0.3 s"


@pytest.mark.timeout(15)
def test_unreachable_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = prober(f"http://127.0.0.1:{port}").probe("nextcloud-acme", "AK", "SK")
    assert result.state == "unreachable"


@pytest.mark.timeout(30)
def test_plain_s3_server_without_rgw_headers_gives_none():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AK",
            aws_secret_access_key="SK",
        ).create_bucket(Bucket="nextcloud-acme")
        probe = prober(endpoint)
        result = probe.probe("nextcloud-acme", "AK", "SK")
        assert result.state == "ok" and result.object_count is None and result.bytes_used is None
        assert probe.probe("nextcloud-gone", "AK", "SK").state == "missing"
    finally:
        server.stop()
