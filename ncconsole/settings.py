"""Settings: defaults < YAML config file (XDG) < environment (NCCONSOLE_*) < command-line flags.

The config file is `$XDG_CONFIG_HOME/ncconsole/config.yaml` (default `~/.config/...`), or the
file named by `NCCONSOLE_CONFIG`. Nested settings use `__` in environment variables, e.g.
`NCCONSOLE_LABELS__WAVE=rollout-wave`.

Named profiles in the file (`profiles: {accept: {...}, prod: {...}}`) each hold the settings of
one cluster (kube context, repo, web/s3, `production`); the one selected by --profile,
NCCONSOLE_PROFILE or the file's `profile:` is laid over the file's top level.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ncconsole.durations import Count, DurationRange, Port, Rate, Seconds
from ncconsole.errors import ConfigError
from ncconsole.locations import config_file_named, config_file_path, xdg_dir
from ncconsole.setting_names import ENV_PREFIX, unknown_env_vars, unknown_file_keys

__all__ = ["Settings", "config_file_path", "load_settings", "xdg_dir"]


# Ranges shared by a setting and the command-line flag that overrides it.
PROBE_TIMEOUT = DurationRange(0.1, 300)
PROBE_INTERVAL = DurationRange(0.1, 86400)
OCC_TIMEOUT = DurationRange(0.1, 86400)
PLATFORM_INTERVAL = DurationRange(2, 86400)
CONCURRENCY = (1, 64)
# Probes started per second; 0 means "no limit" (the one-shot `status` read uses it).
MAX_RATE = (0, 10_000)
CREDENTIAL_PLUGIN_TIMEOUT = DurationRange(1, 600)

ProbeTimeout = Seconds(PROBE_TIMEOUT)
ProbeInterval = Seconds(PROBE_INTERVAL)
OccTimeout = Seconds(OCC_TIMEOUT)
ProbeConcurrency = Count(1, 256)
Concurrency = Count(*CONCURRENCY)
ProbeRate = Rate(*MAX_RATE)
PluginTimeout = Seconds(CREDENTIAL_PLUGIN_TIMEOUT)
ServicePort = Port()  # a number (0: the Service's only port) or a Service port's name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelKeys(_Section):
    tenant: str = "tenant"
    wave: str = "wave"


class WebSettings(_Section):
    """How status.php is reached."""

    scheme: Literal["https", "http"] = "https"
    # host:port that receives every tenant's request, sent with the tenant's Host header
    # (what `curl --resolve` does); for bastions, port-forwards and the simulator.
    connect_to: str | None = None
    ca_file: Path | None = None
    insecure: bool = False
    timeout: ProbeTimeout = 5.0
    interval: ProbeInterval = 15.0
    concurrency: ProbeConcurrency = 16
    # Probes started per second at most: a round over N tenants is spread over the interval
    # but takes at least N / max_rate s, which caps the probes' CPU at any fleet size.
    max_rate: ProbeRate = 90.0
    # Tenants whose connection is kept open between probes (~30 kB each); the others
    # reconnect for each probe (about 10x the CPU of a request on a kept connection).
    keepalive: Count(0, 1_000_000) = 2000


class S3Settings(_Section):
    endpoint: str | None = None
    region: str = "us-east-1"
    # Platform credentials, used when a tenant's Secret cannot be read.
    access_key: str | None = None
    secret_key: str | None = None
    ca_file: Path | None = None
    insecure: bool = False
    timeout: ProbeTimeout = 5.0
    interval: ProbeInterval = 30.0
    concurrency: ProbeConcurrency = 16
    max_rate: ProbeRate = 90.0


class SecretSettings(_Section):
    name: str = "nextcloud-secrets"
    admin_username: str = "admin"
    redis_password: str | None = None
    store_kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    store_name: str = "vault"
    remote_key: str = "nextcloud/{tenant}"


class OccSettings(_Section):
    container: str = "nextcloud"
    # "su": su -s /bin/sh www-data -c "php occ ..." (the chart's documented form);
    # "direct": php /var/www/html/occ ... for pods that already run as uid 33.
    form: Literal["su", "direct"] = "su"
    timeout: OccTimeout = 300.0
    concurrency: Concurrency = 8


class PlatformComponent(_Section):
    """Where one shared component is reached, like an engineer outside the cluster would: a
    direct `address` (host:port) if set, else a port-forward through the Kubernetes API to a
    Ready pod behind `service` (in `namespace`, default platform_namespace) on the Service's
    `port` (number or name). `service: null` and no address: not configured. Credentials
    come from the Secret `credentials_secret` (same namespace), or `username`/`password`."""

    address: str | None = None
    namespace: str | None = None
    service: str | None = None
    port: ServicePort = 0
    credentials_secret: str | None = None
    username_key: str | None = "username"
    password_key: str = "password"
    username: str | None = None
    password: str | None = None
    timeout: ProbeTimeout = 5.0

    @property
    def configured(self) -> bool:
        return bool(self.address or self.service)


class PgBouncerSettings(PlatformComponent):
    service: str | None = "pgbouncer"
    port: ServicePort = 5432
    # A user in PgBouncer's admin_users or stats_users.
    credentials_secret: str | None = "pgbouncer-admin"
    username: str | None = None
    # The database name of a tenant (PgBouncer [databases]); a `_` in it reads as `-`.
    database_pattern: str = "nc_{tenant}"


class RedisSettings(PlatformComponent):
    service: str | None = "redis"
    port: ServicePort = 6379
    credentials_secret: str | None = "redis-auth"
    username_key: str | None = None  # the default user; set for an ACL user
    memory_warning: Rate(0.01, 1) = 0.9  # share of maxmemory from which to warn


class AlertmanagerSettings(PlatformComponent):
    # A direct base URL (e.g. the ingress https://alertmanager.example.com); else port-forward.
    url: str | None = None
    namespace: str | None = "monitoring"
    service: str | None = None
    port: ServicePort = 9093
    credentials_secret: str | None = None  # basic auth, if the URL needs it
    ca_file: Path | None = None
    insecure: bool = False
    # How an alert names its tenant: the first of these labels, else a namespace label whose
    # value is namespace_prefix + tenant. A tenant's silence matches its namespace label.
    tenant_labels: list[str] = Field(default_factory=lambda: ["tenant"])
    namespace_labels: list[str] = Field(default_factory=lambda: ["namespace"])

    @property
    def configured(self) -> bool:
        return bool(self.url or self.address or self.service)


class CertificateSettings(_Section):
    warning_days: Count(0, 3650) = 14  # warn when a certificate expires sooner


class PlatformSettings(_Section):
    # Seconds between the console's readings of the components (each opens a port-forward).
    interval: Seconds(PLATFORM_INTERVAL) = 15.0
    pgbouncer: PgBouncerSettings = Field(default_factory=PgBouncerSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    alertmanager: AlertmanagerSettings = Field(default_factory=AlertmanagerSettings)
    certificates: CertificateSettings = Field(default_factory=CertificateSettings)


class LogsSettings(_Section):
    """Pod logs in the console (`l`/`p`) and `ncconsole logs`."""

    tail_lines: Count(0, 100_000) = 200  # the last N lines per pod to start from
    scrollback: Count(100, 1_000_000) = 5000  # lines the log screen keeps


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    repo: Path = Path(".")
    kubeconfig: Path | None = None
    context: str | None = None
    namespace_prefix: str = "nc-"
    app_prefix: str = "nc-"
    argocd_namespace: str = "argocd"
    platform_namespace: str = "nc-platform"
    applicationset: str = "nextcloud-tenants"
    labels: LabelKeys = Field(default_factory=LabelKeys)
    secret: SecretSettings = Field(default_factory=SecretSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    occ: OccSettings = Field(default_factory=OccSettings)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    read_only: bool = False
    # The console's colours: "high-contrast" for bright terminals, projectors, weak eyes.
    # NO_COLOR (any value) always wins: attributes only, no colours.
    theme: Literal["default", "high-contrast"] = "default"
    # How long a kubeconfig's exec credential plugin may take (kube/credentials.py).
    credential_plugin_timeout: PluginTimeout = 30.0
    # A production cluster: the console shows a PROD badge in a warning colour (per profile).
    production: bool = False
    # The profile in use (see the module docstring) and every profile the file defines.
    profile: str | None = None
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Binding id -> keys, e.g. {"filter": "f"}; applied with App.set_keymap.
    keymap: dict[str, str] = Field(default_factory=dict)
    # One line per ignored (unknown) variable or config key, for the caller to show.
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._warnings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        chosen = getattr(init_settings, "init_kwargs", {}).get("profile")
        return (
            init_settings,
            _KnownOnly(settings_cls, env_settings),
            _YamlFileSource(settings_cls, chosen),
        )

    def namespace_for(self, tenant: str) -> str:
        return f"{self.namespace_prefix}{tenant}"

    def app_name_for(self, tenant: str) -> str:
        return f"{self.app_prefix}{tenant}"


# The config file as load_settings read it, unknown keys already taken out and reported.
_checked_file: ContextVar[dict[str, Any] | None] = ContextVar("checked_file", default=None)


class _KnownOnly(PydanticBaseSettingsSource):
    """Another source's values without the keys no setting has; load_settings reports those
    (NCCONSOLE_WEB__TIMOUT would otherwise fail as a nested extra key, unexplained)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        known, _ = unknown_file_keys(self.settings_cls, self.inner(), "")
        return known


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the config file; relative paths in it are taken relative to the file."""

    def __init__(self, settings_cls: type[BaseSettings], profile: str | None = None) -> None:
        super().__init__(settings_cls)
        self.path = config_file_path()
        checked = _checked_file.get()
        data = checked if checked is not None else _read_config_file(self.path)
        self.data = with_profile(data, self.path, profile)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


_PATH_KEYS = {
    ("repo",),
    ("kubeconfig",),
    ("web", "ca_file"),
    ("s3", "ca_file"),
    ("platform", "alertmanager", "ca_file"),
}


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        if config_file_named():
            raise ConfigError(f"{path}: config file not found (named by NCCONSOLE_CONFIG)")
        return {}
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}; fix the YAML syntax") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read config file ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    for keys in _PATH_KEYS:
        _resolve_relative(data, keys, path.parent)
    return data


def chosen_profile(data: dict[str, Any], given: str | None = None) -> str | None:
    """The profile to use: --profile, else NCCONSOLE_PROFILE, else the file's `profile:`."""
    return given or os.environ.get(f"{ENV_PREFIX}PROFILE") or data.get("profile") or None


def with_profile(data: dict[str, Any], path: Path, given: str | None) -> dict[str, Any]:
    """The file's settings with the chosen profile laid over them (sections merged key by
    key, so a profile's `web: {connect_to: ...}` keeps the file's other web settings)."""
    profiles = data.get("profiles") or {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: 'profiles' must map profile names to settings")
    for name, values in profiles.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: profile '{name}' must be a mapping of settings")
        nested = sorted({"profile", "profiles"} & set(values))
        if nested:
            raise ConfigError(f"{path}: profile '{name}' may not set {', '.join(nested)}")
        for keys in _PATH_KEYS:
            _resolve_relative(values, keys, path.parent)
    name = chosen_profile(data, given)
    if name is None:
        return data
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none defined"
        raise ConfigError(f"{path}: no profile '{name}' (profiles: {known}); add it or pick one")
    merged = dict(data, profile=name)
    for key, value in profiles[name].items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _resolve_relative(data: dict[str, Any], keys: tuple[str, ...], base: Path) -> None:
    *parents, last = keys
    for key in parents:
        data = data.get(key)
        if not isinstance(data, dict):
            return
    value = data.get(last)
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        data[last] = str(path if path.is_absolute() else base / path)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `overrides` are command-line flags (None means "not given")."""
    given = {key: value for key, value in overrides.items() if value is not None}
    path = config_file_path()
    data, unknown = unknown_file_keys(Settings, _read_config_file(path), str(path))
    unknown = unknown_env_vars(Settings, os.environ) + unknown
    for name in unknown:
        if name.safety:
            raise ConfigError(name.message())
    token = _checked_file.set(data)
    try:
        settings = Settings(**given)
    except ConfigError:
        raise
    except SettingsError as err:
        # pydantic-settings fails this way on a non-JSON value for a nested section.
        match = re.search(r'field "([^"]+)"', str(err))
        var = f"{ENV_PREFIX}{match.group(1).upper()}" if match else f"{ENV_PREFIX}*"
        raise ConfigError(
            f"environment variable {var}: not valid JSON; set single values with {var}__<KEY>"
        ) from None
    except ValidationError as err:
        first = err.errors()[0]
        loc = [str(part) for part in first["loc"]]
        field = ".".join(loc)
        message = _problem(first)
        env_var = _env_var_for(loc)
        if loc and loc[0] in given:
            where, action = f"option --{loc[0].replace('_', '-')}", "check its value"
        elif env_var:
            where, action = f"environment variable {env_var}", "fix or unset it"
        else:
            profile = _profile_setting(loc, given.get("profile"))
            where, action = f"{config_file_path()}: {profile}setting '{field}'", "fix or remove it"
        raise ConfigError(f"{where}: {message}; {action}") from None
    finally:
        _checked_file.reset(token)
    settings._warnings = tuple(name.message() for name in unknown)
    return settings


def _problem(error: Any) -> str:
    """pydantic's message for one error, without its "Value error, " prefix."""
    if error["type"] == "extra_forbidden":
        return "unknown setting"
    if error["type"] == "value_error" and "error" in (error.get("ctx") or {}):
        return str(error["ctx"]["error"])
    return str(error["msg"])


def _profile_setting(loc: list[str], given: str | None) -> str:
    """ "profile 'prod' " when the bad value at `loc` came from the chosen profile."""
    try:
        data = _read_config_file(config_file_path())
    except ConfigError:
        return ""
    name = chosen_profile(data, given)
    profiles = data.get("profiles")
    if name and isinstance(profiles, dict) and loc and loc[0] in (profiles.get(name) or {}):
        return f"profile '{name}' "
    return ""


def _env_var_for(loc: list[str]) -> str | None:
    """The NCCONSOLE_* variable that set the value at `loc`, if one did."""
    names = {key.upper(): key for key in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(part.upper() for part in loc[:depth])
        if name in names:
            return names[name]
    return None
