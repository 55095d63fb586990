"""The bucket probe's own SigV4 signature is the one botocore computes for the same request
(the real-RGW tests check that RGW accepts it)."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ncconsole.probes.sigv4 import Signer, canonical_query


def botocore_headers(url: str, region: str, access: str, secret: str) -> dict[str, str]:
    request = AWSRequest(method="HEAD", url=url, data=b"")
    S3SigV4Auth(Credentials(access, secret), "s3", region).add_auth(request)
    return dict(request.headers.items())


def test_signature_matches_botocore_for_head_bucket_with_read_stats() -> None:
    for host, region in (("127.0.0.1:7480", "us-east-1"), ("rgw.example.com", "eu-west-2")):
        theirs = botocore_headers(
            f"http://{host}/nextcloud-acme?read-stats", region, "AKIA-TENANT", "s3cr3t/+="
        )
        when = datetime.strptime(theirs["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        ours = Signer(region).headers(
            "HEAD", host, "/nextcloud-acme", "read-stats", "AKIA-TENANT", "s3cr3t/+=", when
        )
        assert ours["Authorization"] == theirs["Authorization"]
        assert ours["X-Amz-Content-SHA256"] == theirs["X-Amz-Content-SHA256"]


def test_a_rotated_secret_is_not_signed_with_the_old_key() -> None:
    signer = Signer("us-east-1")
    when = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    first = signer.headers("HEAD", "h", "/b", "read-stats", "AK", "old", when)
    second = signer.headers("HEAD", "h", "/b", "read-stats", "AK", "new", when)
    assert first["Authorization"] != second["Authorization"]


def test_canonical_query_sorts_and_gives_empty_values_an_equals_sign() -> None:
    assert canonical_query("read-stats") == "read-stats="
    assert canonical_query("b=2&a=x y") == "a=x%20y&b=2"
