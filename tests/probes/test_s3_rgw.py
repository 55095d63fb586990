"""The S3 probe against a real Ceph RGW (scripts/rgw-up.sh): RGW checks signatures and adds
the X-RGW-* headers that moto lacks. The fixture is in conftest.py."""

import secrets

import boto3
import pytest
from botocore.config import Config

from ncconsole.probes.s3 import BucketProber
from ncconsole.settings import S3Settings
from ncconsole.sim.s3 import ExternalS3, S3Service
from ncconsole.sim.scenario import TenantSpec

# The first test also waits for the session's RGW to start (and to be installed in CI).
pytestmark = pytest.mark.timeout(360)


def new_bucket(rgw, objects=()):
    """A fresh bucket (its own name in each test) holding objects of the given sizes."""
    name = f"nextcloud-t{secrets.token_hex(4)}"
    client = boto3.client(
        "s3",
        endpoint_url=rgw.endpoint,
        region_name="us-east-1",
        aws_access_key_id=rgw.access_key,
        aws_secret_access_key=rgw.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=name)
    for number, size in enumerate(objects):
        client.put_object(Bucket=name, Key=f"urn:oid:{1000 + number}", Body=b"x" * size)
    return name


def probe(rgw, bucket, secret_key=None):
    prober = BucketProber(S3Settings(endpoint=rgw.endpoint, timeout=3.0))
    return prober.probe(bucket, rgw.access_key, secret_key or rgw.secret_key)


def test_object_count_and_bytes_used_come_from_rgw(real_rgw):
    bucket = new_bucket(real_rgw, objects=(1000, 2500, 7))
    result = probe(real_rgw, bucket)
    assert result.state == "ok", result.error
    assert (result.object_count, result.bytes_used) == (3, 3507)


def test_bucket_quota_set_with_radosgw_admin_shows_in_the_probe(real_rgw):
    bucket = new_bucket(real_rgw)
    unlimited = probe(real_rgw, bucket)
    assert (unlimited.quota_max_size, unlimited.quota_max_objects) == (-1, -1)

    scope = ("--quota-scope=bucket", f"--bucket={bucket}")
    real_rgw.admin("quota", "set", *scope, "--max-objects=5000", "--max-size=10737418240")
    real_rgw.admin("quota", "enable", *scope)
    limited = probe(real_rgw, bucket)
    assert (limited.quota_max_size, limited.quota_max_objects) == (10737418240, 5000)


def test_missing_bucket(real_rgw):
    result = probe(real_rgw, "nextcloud-never-created")
    assert result.state == "missing"
    assert result.error == "bucket nextcloud-never-created does not exist"


def test_wrong_secret_key_is_denied_because_rgw_checks_signatures(real_rgw):
    bucket = new_bucket(real_rgw)
    assert probe(real_rgw, bucket).state == "ok"
    result = probe(real_rgw, bucket, secret_key="not-the-secret-key")
    assert result.state == "denied"
    assert result.object_count is None


def test_rgw_stopped_is_unreachable_and_recovers_when_it_is_back(real_rgw):
    bucket = new_bucket(real_rgw, objects=(10,))
    real_rgw.stop_rgw()
    try:
        result = probe(real_rgw, bucket)
        assert result.state == "unreachable"
        assert result.error == f"cannot reach {real_rgw.endpoint}"
    finally:
        real_rgw.start()
    assert probe(real_rgw, bucket).object_count == 1


def test_simulator_s3_provisions_tenant_buckets_on_rgw(real_rgw):
    external = ExternalS3(real_rgw.endpoint, real_rgw.access_key, real_rgw.secret_key)
    suffix = secrets.token_hex(3)
    tenants = [
        TenantSpec(name=f"acme{suffix}", wave=0, bucket=f"nextcloud-acme{suffix}"),
        TenantSpec(
            name=f"gone{suffix}",
            wave=1,
            bucket=f"nextcloud-gone{suffix}",
            faults={"bucket_missing": True},
        ),
    ]
    with S3Service(external=external) as s3:
        assert s3.endpoint_url == real_rgw.endpoint
        s3.provision(tenants, objects_per_bucket=4)
        keys = s3.credentials(tenants[0].name)
        prober = BucketProber(S3Settings(endpoint=s3.endpoint_url, timeout=3.0))
        provisioned = prober.probe(tenants[0].bucket, keys.access_key, keys.secret_key)
        missing = prober.probe(tenants[1].bucket, keys.access_key, keys.secret_key)
    assert provisioned.state == "ok" and provisioned.object_count == 4
    assert missing.state == "missing"
