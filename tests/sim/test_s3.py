import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ncconsole.sim.s3 import ExternalS3, S3Service, S3ServiceError
from ncconsole.sim.scenario import Scenario, default_scenario

pytestmark = pytest.mark.timeout(60)


def scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "tenants": [
                {"name": "canary", "wave": 0},
                {"name": "zwolle", "wave": 1},
                {"name": "leiden", "wave": 1, "faults": {"bucket_missing": True}},
            ]
        }
    )


def tenant_client(service: S3Service, tenant: str):
    """What the console does: the tenant Secret's keys, path-style, on the endpoint."""
    creds = service.credentials(tenant)
    return boto3.client(
        "s3",
        endpoint_url=service.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3():
    with S3Service() as service:
        service.provision(scenario().tenants)
        yield service


def test_each_tenant_has_a_bucket_with_nextcloud_objects(s3):
    assert s3.endpoint_url.startswith("http://127.0.0.1:")
    client = tenant_client(s3, "zwolle")
    assert (
        client.head_bucket(Bucket="nextcloud-zwolle")["ResponseMetadata"]["HTTPStatusCode"] == 200
    )
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="nextcloud-zwolle")["Contents"]]
    assert len(keys) == 3 and all(k.startswith("urn:oid:") for k in keys)


def test_bucket_missing_fault_is_a_404_on_head_bucket(s3):
    with pytest.raises(ClientError) as info:
        tenant_client(s3, "leiden").head_bucket(Bucket="nextcloud-leiden")
    assert info.value.response["Error"]["Code"] == "404"
    # the tenant still has keys for its Secret
    assert s3.credentials("leiden").access_key


def test_tenants_get_distinct_keys_that_never_show_in_repr(s3):
    a, b = s3.credentials("canary"), s3.credentials("zwolle")
    assert a.access_key != b.access_key and a.secret_key != b.secret_key
    assert len(a.access_key) == 20 and len(a.secret_key) == 40
    assert a.secret_key not in repr(a)
    with pytest.raises(S3ServiceError, match="tenant 'nobody'"):
        s3.credentials("nobody")


def test_delete_bucket_and_put_objects_while_running(s3):
    client = tenant_client(s3, "canary")
    added = s3.put_objects("nextcloud-canary", 2)
    listed = {o["Key"] for o in client.list_objects_v2(Bucket="nextcloud-canary")["Contents"]}
    assert set(added) <= listed and len(listed) == 5
    s3.delete_bucket("nextcloud-canary")
    with pytest.raises(ClientError):
        client.head_bucket(Bucket="nextcloud-canary")
    s3.create_bucket("nextcloud-canary")
    assert client.list_objects_v2(Bucket="nextcloud-canary")["KeyCount"] == 0


def test_stop_removes_this_services_buckets():
    with S3Service() as first:
        first.provision(scenario().tenants)
    with S3Service() as second:
        assert not second.bucket_exists("nextcloud-zwolle")


def test_two_thousand_buckets_are_provisioned():
    """Every bucket and key of a 2,000-tenant fleet (the time it takes: benchmarks/sim_speed.py)."""
    tenants = default_scenario(tenants=2000, waves=4).tenants
    with S3Service() as service:
        service.provision(tenants)
        last = tenants[-1]
        client = tenant_client(service, last.name)
        assert client.list_objects_v2(Bucket=last.bucket)["KeyCount"] == 3


def test_external_endpoint_uses_the_given_keys():
    # a second S3 server stands in for an external one (e.g. Ceph RGW)
    with S3Service() as real:
        external = ExternalS3(real.endpoint_url, "RGWACCESSKEY", "rgw-secret")
        service = S3Service(external=external)
        assert service.start() == real.endpoint_url
        service.provision(scenario().tenants[:2], objects_per_bucket=1)
        assert service.credentials("canary").access_key == "RGWACCESSKEY"
        client = tenant_client(service, "zwolle")
        assert client.list_objects_v2(Bucket="nextcloud-zwolle")["KeyCount"] == 1
        service.delete_bucket("nextcloud-zwolle")
        assert not service.bucket_exists("nextcloud-zwolle")
        # moto keeps buckets per process; the external service does not own them: leave none
        service.delete_bucket("nextcloud-canary")
