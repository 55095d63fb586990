"""new-tenant's engine: writes a valid tenant file, or nothing at all with the reason."""

from __future__ import annotations

import pytest

from ncconsole.gitops import TenantRejected, create_tenant, load_repo, validate
from ncconsole.settings import Settings
from tests.gitops.repo_builder import good_tenants, tenant_yaml, write_repo

HOST = "zulu.nextcloud.example.com"


def tenant_dir_listing(root):
    return sorted(p.name for p in (root / "values/tenants").iterdir())


def test_writes_a_tenant_the_repo_accepts(tmp_path):
    write_repo(tmp_path)
    created = create_tenant(tmp_path, Settings(), name="zulu", wave=2, hostname=HOST)
    assert created.path == tmp_path / "values/tenants/tenant-zulu.yaml"
    assert created.existing_errors == []
    repo = load_repo(tmp_path)
    assert validate(repo, Settings()) == []
    zulu = repo.tenant("zulu")
    assert (zulu.wave, zulu.environment, zulu.hostname, zulu.bucket) == (
        2,
        "prod",  # three of the four good tenants are in prod
        HOST,
        "nextcloud-zulu",
    )
    assert zulu.tls_hosts == zulu.ingress_hosts == zulu.trusted_domains == (HOST,)
    assert not any(name.endswith(".tmp") for name in tenant_dir_listing(tmp_path))


def test_follows_the_existing_files_style(tmp_path):
    write_repo(tmp_path)
    created = create_tenant(tmp_path, Settings(), name="zulu", wave=1, hostname=HOST)
    # The good repo's files are in the seed's style: quoted wave, inline lists.
    assert created.path.read_text() == tenant_yaml("zulu", host=HOST)


def test_follows_unquoted_waves_and_block_lists(tmp_path):
    def block_style(name, wave):
        text = tenant_yaml(name, wave=wave)
        host = f"{name}.nextcloud.example.com"
        return text.replace(f"trustedDomains: [{host}]", f"trustedDomains:\n    - {host}")

    files = {f"tenant-{n}.yaml": block_style(n, w) for n, w in [("canary", "0"), ("a", "1")]}
    write_repo(tmp_path, files)
    created = create_tenant(tmp_path, Settings(), name="zulu", wave=1, hostname=HOST, bucket="z-b")
    text = created.path.read_text()
    assert "  wave: 1\n" in text and "bucket: z-b" in text
    assert f"  trustedDomains:\n    - {HOST}\n" in text
    assert validate(load_repo(tmp_path), Settings()) == []


def test_environment_tie_asks_for_environment(tmp_path):
    files = {
        "tenant-canary.yaml": tenant_yaml("canary", env="accept", wave='"0"'),
        "tenant-a.yaml": tenant_yaml("a"),
    }
    write_repo(tmp_path, files)
    with pytest.raises(TenantRejected, match="--environment"):
        create_tenant(tmp_path, Settings(), name="zulu", wave=1, hostname=HOST)
    created = create_tenant(
        tmp_path, Settings(), name="zulu", wave=1, hostname=HOST, environment="accept"
    )
    assert load_repo(tmp_path).tenant("zulu").environment == "accept"
    assert created.tenant.name == "zulu"


def test_refuses_to_overwrite(tmp_path):
    write_repo(tmp_path)
    path = tmp_path / "values/tenants/tenant-alpha.yaml"
    before = path.read_text()
    with pytest.raises(TenantRejected, match="already exists") as caught:
        create_tenant(tmp_path, Settings(), name="alpha", wave=1, hostname=HOST)
    assert caught.value.exit_code == 1
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"hostname": "alpha.nextcloud.example.com"}, "duplicate-hostname"),
        ({"bucket": "nextcloud-alpha"}, "duplicate-bucket"),
        ({"bucket": "Zulu_Bucket"}, "bucket-name-invalid"),
        ({"hostname": "zulu: {evil"}, "hostname-invalid"),
        ({"environment": "staging"}, "environment-unknown"),
        ({"name": "z" * 62, "bucket": "nextcloud-long"}, "name-too-long"),
    ],
)
def test_rejects_a_tenant_that_breaks_a_rule_and_writes_nothing(tmp_path, kwargs, rule):
    write_repo(tmp_path)
    before = tenant_dir_listing(tmp_path)
    args = {"name": "zulu", "wave": 1, "hostname": HOST, **kwargs}
    with pytest.raises(TenantRejected) as caught:
        create_tenant(tmp_path, Settings(), **args)
    assert rule in str(caught.value)
    assert [f.rule for f in caught.value.findings] == [rule]
    assert tenant_dir_listing(tmp_path) == before


@pytest.mark.parametrize("name", ["../evil", "Zulu", "zulu/x", "-zulu", ""])
def test_rejects_a_bad_name_before_touching_the_disk(tmp_path, name):
    write_repo(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(TenantRejected, match="DNS-1123"):
        create_tenant(tmp_path, Settings(), name=name, wave=1, hostname=HOST)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_first_tenant_must_be_the_canary(tmp_path):
    write_repo(tmp_path, {})
    (tmp_path / "values/env/accept.yaml").unlink()
    with pytest.raises(TenantRejected, match="canary-missing"):
        create_tenant(tmp_path, Settings(), name="zulu", wave=1, hostname=HOST)
    created = create_tenant(tmp_path, Settings(), name="zulu", wave=0, hostname=HOST)
    assert created.tenant.environment == "prod"  # the only environment


def test_existing_errors_elsewhere_do_not_block_but_are_reported(tmp_path):
    write_repo(tmp_path, good_tenants(**{"tenant-beta.yaml": "tenant: [\n"}))
    created = create_tenant(tmp_path, Settings(), name="zulu", wave=1, hostname=HOST)
    assert [f.rule for f in created.existing_errors] == ["yaml-syntax"]
    assert created.path.is_file()
