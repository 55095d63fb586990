"""What the simulated platform looks like: tenants, waves, versions, timings, RBAC and faults.

A scenario comes from a YAML file (`load_scenario`) or is generated (`default_scenario`,
`demo_scenario`). Every other simulator module reads from it; nothing here does I/O except
`load_scenario`. A scenario file (every key optional except each tenant's name and wave):

    release: {chart_version: 6.6.4, image_tag: 30.0.6-apache}
    pending_upgrade: {chart_version: 6.6.9, image_tag: 30.0.8-apache}
    applicationset: {mode: rolling_sync, steps: [{waves: [0]}, {waves: [1, 2], max_update: 0}],
                     sources: multi}
    timings: {sync: 3, pod_start: 4}
    api: {latency: 0.2, drop_watches_every: 30}
    rbac: {users: [{name: admin}, {name: viewer, read_only: true},
                   {name: engineer, namespaces: ["nc-*", argocd]}]}
    tenants:
      - {name: canary, wave: 0, environment: test}
      - {name: zwolle, wave: 1, replicas: 2, faults: {degraded: true, statusphp_slow: 3}}
"""

from __future__ import annotations

import random
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ncconsole.errors import NcConsoleError
from ncconsole.sim.names import MAX_NAME_LENGTH, tenant_names

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_PREFIX = "nc-"


class ScenarioError(NcConsoleError):
    """The scenario file cannot be used."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantFaults(_Model):
    sync_fails: bool = False  # every sync operation of its Application ends Failed
    degraded: bool = False  # pods crash-loop with rising restarts; health Degraded
    # The pods there now crash-loop (PgBouncer refused them once); new pods - a rollout
    # restart, a deleted pod's replacement, a sync - start normally.
    stale_crashloop: bool = False
    maintenance: bool = False  # Nextcloud starts in maintenance mode
    needs_db_upgrade: bool = False  # status.php says needsDbUpgrade until `occ upgrade`
    bucket_missing: bool = False  # its S3 bucket is never created
    statusphp_500: bool = False
    statusphp_503: bool = False
    statusphp_slow: float = Field(default=0.0, ge=0)  # seconds before status.php answers
    namespace_forbidden: bool = False  # every user gets 403 in its namespace
    # Its TLS Certificate (cert-manager) expires in this many days (default: 60, renewed in 30).
    certificate_expires_in: float | None = None
    certificate_failing: bool = False  # issuance failed: Ready False, Issuing False (Failed)
    # Its PgBouncer pool is held and its clients queue up to max_client_conn (only with real
    # platform servers, `sim --platform-env`; platform_load.py).
    pgbouncer_saturated: bool = False

    def any(self) -> bool:
        return self != TenantFaults()


class TenantSpec(_Model):
    name: str
    wave: int = Field(ge=0)
    environment: str = "prod"
    hostname: str = ""  # default <name>.<scenario domain>
    bucket: str = ""  # default nextcloud-<name>
    replicas: int = Field(default=3, ge=0, le=50)
    image_tag: str | None = None  # a tenant-file override of values/common.yaml's image tag
    faults: TenantFaults = Field(default_factory=TenantFaults)

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if len(value) > MAX_NAME_LENGTH or not _DNS_LABEL.match(value):
            raise ValueError(
                f"'{value}' is not a DNS-1123 label of at most {MAX_NAME_LENGTH} characters"
            )
        return value

    @property
    def namespace(self) -> str:
        return f"{NAMESPACE_PREFIX}{self.name}"

    @property
    def app_name(self) -> str:
        return f"{NAMESPACE_PREFIX}{self.name}"


class Release(_Model):
    """A Helm chart version with the Nextcloud image tag it deploys."""

    chart_version: str = "6.6.4"
    image_tag: str = "30.0.6-apache"


class PendingUpgrade(Release):
    """A second commit in the platform repo, waiting for Argo CD to notice it."""

    message: str = ""


class RollingStep(_Model):
    waves: list[int]
    # None: sync all at once; 0: manual gate (the console promotes); n or "25%": batch size.
    max_update: int | str | None = None


class ApplicationSetSpec(_Model):
    mode: Literal["manual", "rolling_sync"] = "manual"
    steps: list[RollingStep] = Field(default_factory=list)  # empty: one step per wave
    # multi: the platform's template (the chart + the values repo as `ref: values`);
    # single: one Git source holding a vendored chart, for consoles on older platforms.
    sources: Literal["multi", "single"] = "multi"


class Timings(_Model):
    """Seconds the simulated controllers take; fast by default so tests stay quick."""

    repo_poll: float = Field(default=0.5, gt=0)  # Argo CD's Git poll (real default 180 s)
    sync: float = Field(default=0.2, ge=0)  # operation Running -> manifests applied
    pod_schedule: float = Field(default=0.05, ge=0)
    pod_start: float = Field(default=0.2, ge=0)  # image pull + container start
    readiness: float = Field(default=0.2, ge=0)  # started -> Ready (probe delay)
    crashloop_backoff: float = Field(default=1.0, gt=0)  # seconds between restarts
    probe_period: float = Field(default=0.5, gt=0)  # readiness probes (access log lines)

    @classmethod
    def realistic(cls) -> Timings:
        return cls(
            repo_poll=10,
            sync=3,
            pod_schedule=0.5,
            pod_start=4,
            readiness=6,
            crashloop_backoff=15,
            probe_period=10,
        )


class ApiFaults(_Model):
    latency: float = Field(default=0.0, ge=0)  # seconds added to every API response
    drop_watches_every: float | None = Field(default=None, gt=0)  # seconds


class UserSpec(_Model):
    name: str
    token: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    # The built-in `view` role (no Secrets, no exec) instead of cluster-admin.
    read_only: bool = False
    # None: bound cluster-wide (a ClusterRoleBinding). A list: RoleBindings in these
    # namespaces only (globs such as "nc-*" stand for every matching namespace); such a user
    # gets 403 on every cluster-wide list, as with real RBAC.
    namespaces: list[str] | None = None
    # Namespaces the user is not bound in: every list across namespaces is then 403 too.
    forbidden_namespaces: list[str] = Field(default_factory=list)


def _default_users() -> list[UserSpec]:
    return [
        UserSpec(name="admin"),
        UserSpec(name="viewer", read_only=True),
        # An on-call engineer whose RBAC is namespace-scoped: RoleBindings (cluster-admin
        # rights) in every tenant namespace and in argocd, no ClusterRoleBinding.
        UserSpec(name="engineer", namespaces=["nc-*", "argocd"]),
    ]


class Rbac(_Model):
    users: list[UserSpec] = Field(default_factory=_default_users, min_length=1)


class Scenario(_Model):
    name: str = "default"
    domain: str = "nextcloud.example.com"
    environments: list[str] = Field(default_factory=lambda: ["test", "accept", "prod"])
    release: Release = Field(default_factory=Release)
    pending_upgrade: PendingUpgrade | None = None
    applicationset: ApplicationSetSpec = Field(default_factory=ApplicationSetSpec)
    timings: Timings = Field(default_factory=Timings)
    api: ApiFaults = Field(default_factory=ApiFaults)
    rbac: Rbac = Field(default_factory=Rbac)
    # The External Secrets API versions served, preferred first: ["v1"] (ESO >= 0.17),
    # ["v1", "v1beta1"] (0.16.2 - 0.16.x) or ["v1beta1"] (before 0.16.2).
    external_secrets_versions: list[Literal["v1", "v1beta1"]] = Field(
        default_factory=lambda: ["v1"], min_length=1
    )
    tenants: list[TenantSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete_and_check(self) -> Scenario:
        seen: dict[str, dict[str, str]] = {"name": {}, "hostname": {}, "bucket": {}}
        for tenant in self.tenants:
            tenant.hostname = tenant.hostname or f"{tenant.name}.{self.domain}"
            tenant.bucket = tenant.bucket or f"nextcloud-{tenant.name}"
            if tenant.environment not in self.environments:
                raise ValueError(
                    f"tenant '{tenant.name}': environment '{tenant.environment}' is not one of "
                    f"{', '.join(self.environments)}"
                )
            for key, owners in seen.items():
                value = getattr(tenant, key)
                if value in owners:
                    raise ValueError(
                        f"tenant '{tenant.name}': {key} '{value}' is already used by "
                        f"tenant '{owners[value]}'"
                    )
                owners[value] = tenant.name
        return self

    @property
    def admin(self) -> UserSpec:
        return self.rbac.users[0]

    def tenant(self, name: str) -> TenantSpec | None:
        return next((t for t in self.tenants if t.name == name), None)

    def waves(self) -> list[int]:
        return sorted({t.wave for t in self.tenants})

    def rolling_steps(self) -> list[RollingStep]:
        """RollingSync steps: as given, or the canary wave automatic and each later wave gated."""
        if self.applicationset.steps:
            return self.applicationset.steps
        return [RollingStep(waves=[w], max_update=None if w == 0 else 0) for w in self.waves()]

    def forbidden_namespaces(self, user: UserSpec) -> set[str]:
        faulty = {t.namespace for t in self.tenants if t.faults.namespace_forbidden}
        return faulty | set(user.forbidden_namespaces)


def load_scenario(path: Path) -> Scenario:
    """Read a scenario YAML file; a bad file is a one-line ScenarioError naming file and field."""
    try:
        data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ScenarioError(f"{where}: {getattr(err, 'problem', None) or 'invalid YAML'}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{path}: cannot read scenario file ({err})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping (tenants:, release:, ...) at the top")
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = first["loc"]
        field = ".".join(str(part) for part in loc) or "(top level)"
        msg = first["msg"].removeprefix("Value error, ")
        tenant = ""
        if len(loc) >= 2 and loc[0] == "tenants" and isinstance(loc[1], int):
            raw = data.get("tenants") or []
            if loc[1] < len(raw) and isinstance(raw[loc[1]], dict) and raw[loc[1]].get("name"):
                tenant = f" (tenant '{raw[loc[1]]['name']}')"
        raise ScenarioError(f"{path}: field '{field}'{tenant}: {msg}") from None


def _spread_waves(count: int, waves: int) -> list[int]:
    """Wave numbers for `count` non-canary tenants: later waves larger, as rollouts grow."""
    weights = list(range(1, waves + 1))
    total = sum(weights)
    sizes = [count * w // total for w in weights]
    for i in range(count - sum(sizes)):
        sizes[-1 - (i % waves)] += 1
    return [
        wave for wave, size in zip(range(1, waves + 1), sizes, strict=True) for _ in range(size)
    ]


def default_scenario(
    tenants: int = 20,
    waves: int = 3,
    seed: int = 0,
    replicas: int = 3,
    applicationset_mode: Literal["manual", "rolling_sync"] = "manual",
) -> Scenario:
    """A canary in wave 0 and the other tenants over waves 1..W, across test/accept/prod."""
    if tenants < 1:
        raise ScenarioError("a scenario needs at least one tenant (--tenants)")
    if waves < 1 and tenants > 1:
        raise ScenarioError("a scenario with more than one tenant needs at least one wave")
    rng = random.Random(seed)
    names = tenant_names(tenants, seed)
    wave_of = [0, *_spread_waves(tenants - 1, max(waves, 1))]
    specs = []
    for i, (name, wave) in enumerate(zip(names, wave_of, strict=True)):
        env = "test" if i == 0 else rng.choices(["test", "accept", "prod"], [1, 2, 7])[0]
        specs.append({"name": name, "wave": wave, "environment": env, "replicas": replicas})
    return Scenario.model_validate(
        {"applicationset": {"mode": applicationset_mode}, "tenants": specs}
    )


_DEMO_TENANTS = (
    # name, wave, environment, replicas, faults
    ("ict-samenwerking", 0, "test", 2, {}),
    ("gemeente-zwolle", 1, "accept", 2, {}),
    ("ggd-hollands-midden", 1, "accept", 2, {}),
    ("bibliotheek-utrecht", 1, "prod", 2, {}),
    ("gemeente-leiden", 2, "prod", 3, {}),
    (
        "omgevingsdienst-haaglanden",
        2,
        "prod",
        2,
        {"stale_crashloop": True, "pgbouncer_saturated": True},
    ),
    ("gemeente-deventer", 2, "prod", 3, {}),
    ("veiligheidsregio-twente", 2, "prod", 2, {}),
    ("gemeente-amersfoort", 3, "prod", 3, {}),
    ("regionaal-archief-tilburg", 3, "prod", 2, {"maintenance": True}),
    ("gemeente-groningen", 3, "prod", 3, {}),
    ("werkbedrijf-rijk-van-nijmegen", 3, "prod", 2, {}),
)


def demo_scenario() -> Scenario:
    """The built-in demo: 12 tenants over waves 0-3, one crash-looping (PgBouncer refused it
    earlier; a restart brings it back), one in maintenance, and a chart upgrade committed but
    not yet rolled out; timings like a real cluster."""
    return Scenario.model_validate(
        {
            "name": "demo",
            "pending_upgrade": {
                "chart_version": "6.6.9",
                "image_tag": "30.0.8-apache",
                "message": "Upgrade Nextcloud to 30.0.8 (chart 6.6.9)",
            },
            "timings": Timings.realistic().model_dump(),
            "tenants": [
                {"name": n, "wave": w, "environment": e, "replicas": r, "faults": f}
                for n, w, e, r, f in _DEMO_TENANTS
            ],
        }
    )
