"""Loading: tolerant of the full repository layout and of broken files; strict only on the root."""

from __future__ import annotations

import pytest

from ncconsole.errors import RepoError
from ncconsole.gitops import load_repo, validate
from ncconsole.settings import Settings
from tests.gitops.repo_builder import good_tenants, tenant_yaml, write_repo


def test_several_broken_files_each_problem_reported_once(tmp_path):
    tenants = good_tenants(
        **{
            "tenant-alpha.yaml": "tenant:\n  name: alpha\n  wave: [1\n",
            "tenant-beta.yaml": "",
            "tenant-gamma.yaml": tenant_yaml("gamma", bucket="Bad_Bucket"),
            "tenant-delta.yaml": tenant_yaml("delta", host="canary.nextcloud.example.com"),
            "tenant-echo.yaml": tenant_yaml("echo", wave='"x"', env="staging"),
        }
    )
    repo = load_repo(write_repo(tmp_path, tenants))
    findings = validate(repo, Settings())
    got = [(f.file.removeprefix("values/tenants/"), f.line, f.rule) for f in findings]
    assert got == [
        ("tenant-alpha.yaml", 3, "yaml-syntax"),
        ("tenant-beta.yaml", 1, "empty-file"),
        ("tenant-delta.yaml", 5, "duplicate-hostname"),
        ("tenant-echo.yaml", 3, "environment-unknown"),
        ("tenant-echo.yaml", 4, "wave-invalid"),
        ("tenant-gamma.yaml", 7, "bucket-name-invalid"),
    ]
    # The files that load are still usable tenants.
    assert [t.name for t in repo.tenants] == ["canary", "delta", "gamma"]


def test_full_platform_layout_and_unrelated_files_are_ignored(tmp_path):
    write_repo(tmp_path)
    (tmp_path / "platform/policies").mkdir(parents=True)
    (tmp_path / "platform/policies/broken.yaml").write_text("{{ not yaml")
    (tmp_path / "values/tenants/README.md").write_text("# tenants\n")
    (tmp_path / "values/tenants/.tenant-alpha.yaml.swp").write_bytes(b"\x00\x01")
    repo = load_repo(tmp_path)
    assert validate(repo, Settings()) == []
    assert len(repo.tenants) == 4


def test_broken_env_file_is_reported_and_its_environment_still_known(tmp_path):
    write_repo(tmp_path)
    (tmp_path / "values/env/prod.yaml").write_text("replicaCount: [2\n")
    findings = validate(load_repo(tmp_path), Settings())
    assert [(f.file, f.rule) for f in findings] == [("values/env/prod.yaml", "yaml-syntax")]


def test_alias_bomb_is_a_finding_not_a_hang(tmp_path):
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    write_repo(tmp_path, good_tenants(**{"tenant-alpha.yaml": bomb}))
    findings = validate(load_repo(tmp_path), Settings())
    assert [(f.rule, f.tenant) for f in findings] == [("yaml-syntax", "alpha")]


def test_missing_repo_path_is_a_repo_error(tmp_path):
    with pytest.raises(RepoError, match="does not exist"):
        load_repo(tmp_path / "nope")


def test_directory_without_values_tenants_is_a_repo_error(tmp_path):
    (tmp_path / "values").mkdir()
    with pytest.raises(RepoError) as caught:
        load_repo(tmp_path)
    assert str(tmp_path) in str(caught.value) and "values/tenants/" in str(caught.value)
    assert caught.value.exit_code == 2


def test_yaml_1_1_booleans_read_as_helm_reads_them(tmp_path):
    """`environment: no` is false for Helm and Argo CD (go-yaml), so it is not an environment."""
    text = tenant_yaml("alpha").replace("environment: prod", "environment: no")
    write_repo(tmp_path, good_tenants(**{"tenant-alpha.yaml": text}))
    findings = validate(load_repo(tmp_path), Settings())
    assert [(f.rule, f.line) for f in findings] == [("required-field", 3)]
    assert "found False; quote it" in findings[0].message


def test_merge_keys_and_anchors_resolve_with_lines(tmp_path):
    text = (
        "defaults: &defaults\n"
        "  environment: prod\n"
        '  wave: "1"\n'
        "tenant:\n"
        "  <<: *defaults\n"
        "  name: alpha\n"
        '  wave: "2"\n'
        "  hostname: alpha.nextcloud.example.com\n"
        "  s3: {bucket: nextcloud-alpha}\n"
        "nextcloud: {host: alpha.nextcloud.example.com,"
        " trustedDomains: [alpha.nextcloud.example.com]}\n"
    )
    write_repo(tmp_path, good_tenants(**{"tenant-alpha.yaml": text}))
    repo = load_repo(tmp_path)
    assert validate(repo, Settings()) == []
    alpha = repo.tenant("alpha")
    assert (alpha.environment, alpha.wave) == ("prod", 2)  # the mapping's own key wins
    assert alpha.line("tenant.wave") == 7 and alpha.line("tenant.s3.bucket") == 9


def test_mangled_tenant_files_never_raise(tmp_path):
    """Random damage to a tenant file yields findings on that file, never an exception."""
    import random

    rnd = random.Random(7)
    junk = ["{", "}", "[", "]", ":", " ", "\n", "-", "&a", "*a", "'", '"', "#", "\t", "? ", "|"]
    junk += ["!!binary", "!!python/object:os.system", "<<: *a", "\x00", "\ufeff", "~", "0x1"]
    write_repo(tmp_path)
    target = tmp_path / "values/tenants/tenant-alpha.yaml"
    original = target.read_text()
    for _ in range(150):
        chars = list(original)
        for _ in range(rnd.randint(1, 6)):
            chars.insert(rnd.randrange(len(chars)), rnd.choice(junk))
            del chars[rnd.randrange(len(chars))]
        target.write_text("".join(chars))
        findings = validate(load_repo(tmp_path), Settings())
        others = [f for f in findings if f.file != "values/tenants/tenant-alpha.yaml"]
        # Damage to alpha may change alpha's wave/host/bucket, so only duplicates and the
        # canary rule may mention other files.
        assert {f.rule for f in others} <= {
            "duplicate-hostname",
            "duplicate-bucket",
            "canary-missing",
        }
