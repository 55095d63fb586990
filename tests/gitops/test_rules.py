"""Each rule, broken alone in an otherwise good repository, is reported with its id, file, line."""

from __future__ import annotations

import pytest

from ncconsole.gitops import RULES, load_repo, validate
from ncconsole.settings import Settings
from tests.gitops.repo_builder import LINE, good_tenants, tenant_yaml, write_repo

ALPHA = "values/tenants/tenant-alpha.yaml"
ALPHA_HOST = "alpha.nextcloud.example.com"


def findings_for(tmp_path, tenants=None, settings=None):
    repo = load_repo(write_repo(tmp_path, tenants))
    return validate(repo, settings or Settings())


def only(findings):
    assert len(findings) == 1, [f.as_text() for f in findings]
    return findings[0]


def alpha_with(text: str) -> dict[str, str]:
    return good_tenants(**{"tenant-alpha.yaml": text})


def alpha_replacing(old: str, new: str) -> dict[str, str]:
    text = tenant_yaml("alpha")
    assert old in text
    return alpha_with(text.replace(old, new))


def test_good_repo_validates_clean(tmp_path):
    repo = load_repo(write_repo(tmp_path))
    assert validate(repo, Settings()) == []
    assert [(t.wave, t.name) for t in repo.tenants] == [
        (0, "canary"),
        (1, "alpha"),
        (1, "beta"),
        (2, "gamma"),
    ]
    alpha = repo.tenant("alpha")
    assert alpha.hostname == ALPHA_HOST
    assert alpha.line("tenant.s3.bucket") == LINE["tenant.s3.bucket"]
    assert alpha.ingress_hosts == alpha.tls_hosts == alpha.trusted_domains == (ALPHA_HOST,)
    assert sorted(repo.environments) == ["accept", "prod"]
    assert repo.chart_version == "30.0.6-apache"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (tenant_yaml("alpha").replace("  hostname: ", "  hostname: x: "), 5),
        (tenant_yaml("alpha").replace("  environment:", "  name: again\n  environment:"), 3),
        (tenant_yaml("alpha").replace("  tls: [{", "  tls: [{{"), 12),
        (tenant_yaml("alpha") + "---\nother: 1\n", 14),
        ('tenant:\n  name: "alpha\n  wave: 1\n', 2),
        ("tenant:\n  name: alpha\n  wave: [1\n", 3),
    ],
    ids=[
        "mapping-in-scalar",
        "duplicate-key",
        "unclosed-flow",
        "two-documents",
        "unclosed-quote-at-its-line",
        "unclosed-bracket-at-its-line",
    ],
)
def test_yaml_syntax(tmp_path, text, line):
    found = only(findings_for(tmp_path, alpha_with(text)))
    assert (found.rule, found.file, found.line, found.tenant) == (
        "yaml-syntax",
        ALPHA,
        line,
        "alpha",
    )


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n"])
def test_empty_file(tmp_path, text):
    found = only(findings_for(tmp_path, alpha_with(text)))
    assert (found.rule, found.file, found.line) == ("empty-file", ALPHA, 1)


def test_not_a_mapping(tmp_path):
    found = only(findings_for(tmp_path, alpha_with("- tenant\n- alpha\n")))
    assert (found.rule, found.file, found.line) == ("not-a-mapping", ALPHA, 1)


def test_file_not_utf8(tmp_path):
    write_repo(tmp_path)
    (tmp_path / ALPHA).write_bytes(b"tenant:\n  name: \xff\xfe\n")
    found = only(validate(load_repo(tmp_path), Settings()))
    assert (found.rule, found.file, found.line) == ("file-unreadable", ALPHA, 1)


@pytest.mark.parametrize(
    ("field", "old", "new", "line"),
    [
        ("tenant.name", "  name: alpha\n", "", 1),
        ("tenant.environment", "  environment: prod\n", "", 1),
        ("tenant.wave", '  wave: "1"\n', '  wave: ""\n', 4),
        ("tenant.hostname", f"  hostname: {ALPHA_HOST}\n", "", 1),
        ("tenant.s3.bucket", "    bucket: nextcloud-alpha\n", "", 6),
        ("tenant.environment", "  environment: prod\n", "  environment: [prod]\n", 3),
    ],
    ids=["name", "environment", "wave-empty", "hostname", "bucket", "environment-list"],
)
def test_required_field(tmp_path, field, old, new, line):
    found = only(findings_for(tmp_path, alpha_replacing(old, new)))
    assert (found.rule, found.file, found.line) == ("required-field", ALPHA, line)
    assert field in found.message


def test_tenant_file_without_tenant_section_reports_each_field_once(tmp_path):
    findings = findings_for(tmp_path, alpha_with("nextcloud:\n  host: x.example.com\n"))
    assert [(f.rule, f.line) for f in findings] == [("required-field", 1)] * 5


def test_name_not_dns1123(tmp_path):
    text = tenant_yaml("Alpha", host="upper.nextcloud.example.com", bucket="nextcloud-upper")
    found = only(findings_for(tmp_path, good_tenants(**{"tenant-Alpha.yaml": text})))
    assert (found.rule, found.file, found.line) == (
        "name-dns1123",
        "values/tenants/tenant-Alpha.yaml",
        LINE["tenant.name"],
    )


def test_invalid_name_is_not_also_a_file_name_mismatch(tmp_path):
    text = tenant_yaml("Alpha", host=ALPHA_HOST, bucket="nextcloud-alpha")
    found = only(findings_for(tmp_path, alpha_with(text)))
    assert (found.rule, found.file) == ("name-dns1123", ALPHA)


def test_name_too_long_for_namespace_prefix(tmp_path):
    name = "n" * 62  # a valid label, but nc- + name is 65 characters
    text = tenant_yaml(name, host="long.nextcloud.example.com", bucket="nextcloud-long")
    found = only(findings_for(tmp_path, good_tenants(**{f"tenant-{name}.yaml": text})))
    assert (found.rule, found.line) == ("name-too-long", LINE["tenant.name"])
    assert "at most 60" in found.message


def test_name_length_follows_the_namespace_prefix_setting(tmp_path):
    name = "n" * 60
    text = tenant_yaml(name, host="long.nextcloud.example.com", bucket="nextcloud-long")
    tenants = good_tenants(**{f"tenant-{name}.yaml": text})
    assert findings_for(tmp_path, tenants) == []
    found = only(findings_for(tmp_path, tenants, Settings(namespace_prefix="nextcloud-")))
    assert found.rule == "name-too-long"


def test_file_name_mismatch(tmp_path):
    found = only(findings_for(tmp_path, alpha_replacing("  name: alpha\n", "  name: alfa\n")))
    assert (found.rule, found.file, found.line) == ("file-name-mismatch", ALPHA, 2)
    assert "tenant-alfa.yaml" in found.message


@pytest.mark.parametrize("wave", ['"01"', "-1", '"one"', "1.5", "true", '" 1"', "[1]"])
def test_wave_invalid(tmp_path, wave):
    found = only(findings_for(tmp_path, alpha_with(tenant_yaml("alpha", wave=wave))))
    assert (found.rule, found.file, found.line) == ("wave-invalid", ALPHA, LINE["tenant.wave"])


@pytest.mark.parametrize("wave", ['"3"', "3", "'3'"])
def test_wave_quoted_or_not_is_an_int(tmp_path, wave):
    repo = load_repo(write_repo(tmp_path, alpha_with(tenant_yaml("alpha", wave=wave))))
    assert validate(repo, Settings()) == []
    assert repo.tenant("alpha").wave == 3


def test_environment_unknown(tmp_path):
    found = only(findings_for(tmp_path, alpha_with(tenant_yaml("alpha", env="staging"))))
    assert (found.rule, found.file, found.line) == ("environment-unknown", ALPHA, 3)
    assert "values/env/staging.yaml" in found.message


@pytest.mark.parametrize(
    "host",
    [
        "alpha",
        "Alpha.nextcloud.example.com",
        "alpha_x.example.com",
        "alpha.example.123",
        "-a.example.com",
    ],
)
def test_hostname_invalid(tmp_path, host):
    found = only(findings_for(tmp_path, alpha_with(tenant_yaml("alpha", host=host))))
    assert (found.rule, found.file, found.line) == (
        "hostname-invalid",
        ALPHA,
        LINE["tenant.hostname"],
    )


def test_nextcloud_host_mismatch(tmp_path):
    tenants = alpha_replacing(f"  host: {ALPHA_HOST}\n", "  host: other.example.com\n")
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.file, found.line) == ("nextcloud-host-mismatch", ALPHA, 9)


def test_nextcloud_host_missing(tmp_path):
    found = only(findings_for(tmp_path, alpha_replacing(f"  host: {ALPHA_HOST}\n", "")))
    assert (found.rule, found.line) == ("nextcloud-host-mismatch", 8)


def test_trusted_domain_missing(tmp_path):
    tenants = alpha_replacing(f"trustedDomains: [{ALPHA_HOST}]", "trustedDomains: [x.example.com]")
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.file, found.line) == ("trusted-domain-missing", ALPHA, 10)


def test_ingress_host_mismatch(tmp_path):
    text = tenant_yaml("alpha")
    text = text.replace(f"hosts: [{ALPHA_HOST}]", f"hosts: [{ALPHA_HOST}, other.example.com]")
    text = text.replace(f"{{host: {ALPHA_HOST},", "{host: other.example.com,")
    found = only(findings_for(tmp_path, alpha_with(text)))
    assert (found.rule, found.file, found.line) == ("ingress-host-mismatch", ALPHA, 13)


def test_ingress_tls_missing(tmp_path):
    tenants = alpha_replacing(f"hosts: [{ALPHA_HOST}]}}]", "hosts: [x.example.com]}]")
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.file, found.line) == ("ingress-tls-missing", ALPHA, 13)


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "b" * 64,
        "Nextcloud-alpha",
        "next..cloud",
        "192.168.1.10",
        "xn--alpha",
        "alpha-s3alias",
        "-alpha",
        "alpha-",
        "alpha_bucket",
    ],
)
def test_bucket_name_invalid(tmp_path, bucket):
    found = only(findings_for(tmp_path, alpha_with(tenant_yaml("alpha", bucket=bucket))))
    assert (found.rule, found.file, found.line) == ("bucket-name-invalid", ALPHA, 7)


def test_duplicate_name_names_both_files(tmp_path):
    copy = tenant_yaml("alpha", host="copy.nextcloud.example.com", bucket="nextcloud-copy")
    findings = findings_for(tmp_path, good_tenants(**{"tenant-copy.yaml": copy}))
    dup = only([f for f in findings if f.rule == "duplicate-name"])
    assert (dup.file, dup.line) == ("values/tenants/tenant-copy.yaml", 2)
    assert f"{ALPHA}:2" in dup.message
    # A second file can only reuse a name under another file name.
    assert sorted(f.rule for f in findings) == ["duplicate-name", "file-name-mismatch"]


@pytest.mark.parametrize(
    ("rule", "kwargs", "line"),
    [
        ("duplicate-hostname", {"host": ALPHA_HOST}, 5),
        ("duplicate-bucket", {"bucket": "nextcloud-alpha"}, 7),
    ],
)
def test_duplicate_hostname_and_bucket(tmp_path, rule, kwargs, line):
    tenants = good_tenants(**{"tenant-zulu.yaml": tenant_yaml("zulu", **kwargs)})
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.file, found.line) == (rule, "values/tenants/tenant-zulu.yaml", line)
    assert f"{ALPHA}:{line}" in found.message


def test_canary_missing(tmp_path):
    tenants = good_tenants(
        **{"tenant-canary.yaml": tenant_yaml("canary", env="accept", wave='"3"')}
    )
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.file, found.line) == ("canary-missing", "values/tenants/", 0)
    assert found.as_text().startswith("values/tenants/: error canary-missing:")


def test_repo_without_tenants_needs_no_canary(tmp_path):
    assert findings_for(tmp_path, {}) == []


def test_tenant_file_in_subfolder_is_a_warning(tmp_path):
    tenants = good_tenants(**{"old/tenant-zulu.yaml": tenant_yaml("zulu")})
    found = only(findings_for(tmp_path, tenants))
    assert (found.rule, found.severity, found.file, found.line, found.tenant) == (
        "tenant-file-in-subfolder",
        "warning",
        "values/tenants/old/tenant-zulu.yaml",
        1,
        "zulu",
    )


def test_stray_file_in_tenants_dir_is_a_warning(tmp_path):
    found = only(findings_for(tmp_path, good_tenants(**{"zulu.yaml": tenant_yaml("zulu")})))
    assert (found.rule, found.severity, found.file) == (
        "stray-tenant-file",
        "warning",
        "values/tenants/zulu.yaml",
    )


S3_PLAIN = "nextcloud:\n  objectStore:\n    s3:\n      enabled: true\n      accessKey: AKIA\n"


def test_s3_plaintext_keys_in_common_warn_once(tmp_path):
    write_repo(tmp_path)
    (tmp_path / "values/common.yaml").write_text(S3_PLAIN)
    found = only(validate(load_repo(tmp_path), Settings()))
    assert (found.rule, found.severity, found.file, found.line, found.tenant) == (
        "s3-credentials-plaintext",
        "warning",
        "values/common.yaml",
        3,
        None,
    )
    assert "AKIA" not in found.message


def test_s3_secret_in_tenant_file_silences_the_warning_for_that_tenant_only(tmp_path):
    secret = (
        "  objectStore:\n    s3:\n      existingSecret: nextcloud-secrets\n"
        "      secretKeys: {accessKey: s3-access-key, secretKey: s3-secret-key}\n"
    )
    text = tenant_yaml("alpha").replace("nextcloud:\n", "nextcloud:\n" + secret)
    write_repo(tmp_path, alpha_with(text))
    (tmp_path / "values/env/prod.yaml").write_text(S3_PLAIN)
    findings = validate(load_repo(tmp_path), Settings())
    # beta and gamma (prod) inherit the plaintext keys; alpha overrides them with a Secret.
    found = only(findings)
    assert (found.rule, found.file) == ("s3-credentials-plaintext", "values/env/prod.yaml")


def test_missing_common_values_is_a_warning(tmp_path):
    write_repo(tmp_path)
    (tmp_path / "values/common.yaml").unlink()
    found = only(validate(load_repo(tmp_path), Settings()))
    assert (found.rule, found.severity, found.file, found.line) == (
        "common-values-missing",
        "warning",
        "values/common.yaml",
        0,
    )


def test_every_rule_is_exercised_here():
    import pathlib

    source = pathlib.Path(__file__).read_text()
    missing = [rule for rule in RULES if f'"{rule}"' not in source]
    assert missing == []
