"""Settings layering: defaults < config file < NCCONSOLE_* environment < command-line flags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ncconsole.errors import ConfigError
from ncconsole.settings import config_file_path, load_settings


@pytest.fixture(autouse=True)
def _clean_env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("NCCONSOLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg" / "ncconsole" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_config_file(tmp_path):
    settings = load_settings()
    assert config_file_path() == tmp_path / "xdg" / "ncconsole" / "config.yaml"
    assert settings.repo == Path(".")
    assert settings.context is None
    assert (settings.namespace_prefix, settings.app_prefix) == ("nc-", "nc-")
    assert settings.argocd_namespace == "argocd"
    assert (settings.labels.tenant, settings.labels.wave) == ("tenant", "wave")
    assert settings.secret.name == "nextcloud-secrets"
    assert settings.namespace_for("a") == "nc-a" and settings.app_name_for("a") == "nc-a"


def test_config_file_overrides_defaults(tmp_path):
    write_config(tmp_path, "namespace_prefix: nextcloud-\nlabels:\n  wave: rollout-wave\n")
    settings = load_settings()
    assert settings.namespace_for("a") == "nextcloud-a"
    assert (settings.labels.tenant, settings.labels.wave) == ("tenant", "rollout-wave")


def test_ncconsole_config_names_another_file(tmp_path, monkeypatch):
    write_config(tmp_path, "app_prefix: from-xdg-\n")
    other = tmp_path / "other.yaml"
    other.write_text("app_prefix: from-other-\n")
    monkeypatch.setenv("NCCONSOLE_CONFIG", str(other))
    assert load_settings().app_prefix == "from-other-"


def test_environment_overrides_config_file_and_nests_with_double_underscore(tmp_path, monkeypatch):
    write_config(tmp_path, "app_prefix: file-\nlabels:\n  tenant: file-tenant\n  wave: file-wave\n")
    monkeypatch.setenv("NCCONSOLE_APP_PREFIX", "env-")
    monkeypatch.setenv("NCCONSOLE_LABELS__WAVE", "env-wave")
    settings = load_settings()
    assert settings.app_prefix == "env-"
    # Nested sections merge: the file's labels.tenant survives the env's labels.wave.
    assert (settings.labels.tenant, settings.labels.wave) == ("file-tenant", "env-wave")


def test_flags_override_environment_and_file(tmp_path, monkeypatch):
    write_config(tmp_path, "context: file-ctx\n")
    monkeypatch.setenv("NCCONSOLE_CONTEXT", "env-ctx")
    assert load_settings().context == "env-ctx"
    assert load_settings(context="flag-ctx").context == "flag-ctx"
    assert load_settings(context=None).context == "env-ctx"  # a flag not given


def test_relative_paths_in_config_file_are_relative_to_the_file(tmp_path, monkeypatch):
    config = write_config(tmp_path, "repo: ../platform\nweb:\n  ca_file: ca.pem\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.repo.resolve() == (config.parent.parent / "platform").resolve()
    assert settings.web.ca_file == config.parent / "ca.pem"


def test_home_relative_path_in_config_file_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_config(tmp_path, "repo: ~/platform\n")
    assert load_settings().repo == tmp_path / "home" / "platform"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("labels:\n  wave: [unclosed\n", "fix the YAML syntax"),
        ("namespace_prefix: [1]\n", "setting 'namespace_prefix'"),
        ("web:\n  timeout: soon\n", "setting 'web.timeout'"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_file_names_file_and_field(tmp_path, text, expected):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message
    assert "\n" not in message and caught.value.exit_code == 2


def test_missing_file_named_by_ncconsole_config(tmp_path, monkeypatch):
    monkeypatch.setenv("NCCONSOLE_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("NCCONSOLE_WEB__TIMEOUT", "soon", "environment variable NCCONSOLE_WEB__TIMEOUT:"),
        ("NCCONSOLE_LABELS", "{not json", "environment variable NCCONSOLE_LABELS: not valid JSON"),
    ],
)
def test_bad_environment_value_names_the_variable(monkeypatch, var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)


def test_bad_config_via_cli_is_one_line_exit_2_without_traceback(tmp_path):
    path = write_config(tmp_path, "labels:\n  wave: [1, 2]\n")
    done = subprocess.run(
        [sys.executable, "-m", "ncconsole", "validate", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert str(path) in done.stderr and "labels.wave" in done.stderr


PROFILES = """\
repo: shared-repo
web: {interval: 20, connect_to: 127.0.0.1:1}
profile: accept
profiles:
  accept:
    context: accept-cluster
    repo: accept-repo
  prod:
    context: prod-cluster
    production: true
    web: {connect_to: 10.0.0.1:443}
    s3: {endpoint: https://s3.prod.example}
"""


def test_the_file_default_profile_lies_over_the_top_level(tmp_path):
    path = write_config(tmp_path, PROFILES)
    settings = load_settings()
    assert settings.profile == "accept" and settings.context == "accept-cluster"
    assert settings.repo == path.parent / "accept-repo"  # relative to the file, like the top
    assert not settings.production
    assert sorted(settings.profiles) == ["accept", "prod"]


def test_a_chosen_profile_merges_sections_key_by_key(tmp_path, monkeypatch):
    path = write_config(tmp_path, PROFILES)
    settings = load_settings(profile="prod")
    assert (settings.profile, settings.context, settings.production) == (
        "prod",
        "prod-cluster",
        True,
    )
    assert settings.repo == path.parent / "shared-repo"
    assert settings.web.connect_to == "10.0.0.1:443" and settings.web.interval == 20
    assert settings.s3.endpoint == "https://s3.prod.example"
    monkeypatch.setenv("NCCONSOLE_PROFILE", "prod")
    assert load_settings().profile == "prod"
    assert load_settings(profile="accept").profile == "accept"  # the flag beats the variable
    monkeypatch.setenv("NCCONSOLE_CONTEXT", "from-env")
    assert load_settings(profile="prod").context == "from-env"  # env beats the file
    assert load_settings(profile="prod", context="flag").context == "flag"


def test_profile_mistakes_are_one_line_naming_file_and_profile(tmp_path):
    path = write_config(tmp_path, PROFILES)
    with pytest.raises(ConfigError) as err:
        load_settings(profile="staging")
    assert str(err.value) == (
        f"{path}: no profile 'staging' (profiles: accept, prod); add it or pick one"
    )
    write_config(tmp_path, PROFILES + "    colour: red\n")
    with pytest.raises(ConfigError) as err:
        load_settings(profile="prod")
    assert str(err.value) == (
        f"{path}: profile 'prod' setting 'colour': unknown setting; fix or remove it"
    )
    write_config(tmp_path, "profiles:\n  a: {profiles: {}}\n")
    with pytest.raises(ConfigError, match="profile 'a' may not set profiles"):
        load_settings()
    write_config(tmp_path, "profiles: [a, b]\n")
    with pytest.raises(ConfigError, match="'profiles' must map profile names to settings"):
        load_settings()


def test_a_profile_without_a_config_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no profile 'prod' \\(profiles: none defined\\)"):
        load_settings(profile="prod")


def test_platform_components_default_to_port_forwards_and_alertmanager_is_off():
    platform = load_settings().platform
    assert (platform.pgbouncer.service, platform.pgbouncer.port) == ("pgbouncer", 5432)
    assert platform.pgbouncer.credentials_secret == "pgbouncer-admin"
    assert (platform.redis.service, platform.redis.credentials_secret) == ("redis", "redis-auth")
    assert not platform.alertmanager.configured
    assert platform.alertmanager.namespace_labels == ["namespace"]
    assert platform.certificates.warning_days == 14


def test_platform_section_from_file_and_environment(tmp_path, monkeypatch):
    write_config(
        tmp_path,
        "platform:\n"
        "  alertmanager: {url: https://am.example.com, ca_file: ca.pem,\n"
        "                 tenant_labels: [customer]}\n"
        "  pgbouncer: {address: '127.0.0.1:6432', database_pattern: 'nextcloud_{tenant}'}\n"
        "  certificates: {warning_days: 21}\n",
    )
    monkeypatch.setenv("NCCONSOLE_PLATFORM__REDIS__SERVICE", "shared-redis")
    platform = load_settings().platform
    assert platform.alertmanager.configured and platform.alertmanager.tenant_labels == ["customer"]
    assert platform.alertmanager.ca_file == tmp_path / "xdg" / "ncconsole" / "ca.pem"
    assert platform.pgbouncer.address == "127.0.0.1:6432"
    assert platform.pgbouncer.database_pattern == "nextcloud_{tenant}"
    assert platform.redis.service == "shared-redis"
    assert platform.certificates.warning_days == 21


def test_a_bad_platform_setting_names_it(tmp_path):
    path = write_config(tmp_path, "platform:\n  redis: {memory_warning: 2}\n")
    with pytest.raises(ConfigError, match=f"{path}: setting 'platform.redis.memory_warning'"):
        load_settings()
