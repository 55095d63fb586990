"""The desired state as read from the platform repository: tenants, environments, findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ncconsole.gitops.yamlsource import YamlDoc

Severity = Literal["error", "warning"]

TENANTS_DIR = "values/tenants"
ENV_DIR = "values/env"
COMMON_FILE = "values/common.yaml"

# Where a chart or image version may live in values/common.yaml, most specific first.
VERSION_PATHS = ("chart.version", "image.tag", "nextcloud.image.tag", "version")


@dataclass(frozen=True)
class Finding:
    """One problem in the repository. `line` 0 means the finding is about a whole directory."""

    file: str  # relative to the repo root, with forward slashes
    line: int
    rule: str
    severity: Severity
    tenant: str | None
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity,
            "tenant": self.tenant,
            "message": self.message,
        }

    def as_text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity} {self.rule}: {self.message}"


@dataclass(frozen=True)
class Tenant:
    """A tenant whose required fields are present and well typed (other rules may still fail)."""

    name: str
    environment: str
    wave: int
    hostname: str
    bucket: str
    trusted_domains: tuple[str, ...]
    ingress_hosts: tuple[str, ...]
    tls_hosts: tuple[str, ...]
    file: str  # relative to the repo root
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def line(self, dotted: str) -> int:
        """Line of a value in the tenant file, e.g. `tenant.hostname`; 1 when unknown."""
        while dotted:
            if dotted in self.lines:
                return self.lines[dotted]
            dotted = (
                dotted[: dotted.rindex("[")] if dotted.endswith("]") else dotted.rpartition(".")[0]
            )
        return 1


@dataclass
class TenantFile:
    """A file the ApplicationSet would pick up, loaded or not; the rules work on these."""

    rel: str
    doc: YamlDoc
    tenant: Tenant | None = None
    # True for tenant-*.yaml directly in values/tenants/; False for files the glob also
    # matches (other names, subfolders) that ncconsole does not treat as tenants.
    is_tenant_file: bool = True

    @property
    def declared_name(self) -> str | None:
        """tenant.name as written, if it is a non-empty string (even when other fields fail)."""
        name = self.doc.get("tenant.name") if isinstance(self.doc.data, dict) else None
        return name if isinstance(name, str) and name else None

    @property
    def guessed_name(self) -> str | None:
        """tenant.name if readable, else the name the file is called by (tenant-<name>.yaml)."""
        stem = self.doc.path.stem
        return self.declared_name or (stem.removeprefix("tenant-") if self.is_tenant_file else None)


@dataclass
class Repo:
    """The platform repository as loaded; see `ncconsole.gitops.load_repo`."""

    root: Path
    common: dict[str, Any]
    environments: dict[str, dict[str, Any]]  # environment name -> its values
    files: list[TenantFile]
    common_doc: YamlDoc | None = None
    env_docs: dict[str, YamlDoc] = field(default_factory=dict)

    @cached_property
    def tenants(self) -> list[Tenant]:
        """Usable tenants, canary wave first, then by wave and name.

        Computed once: build a new Repo (dataclasses.replace) rather than editing `files`.
        """
        found = [f.tenant for f in self.files if f.tenant is not None]
        return sorted(found, key=lambda t: (t.wave, t.name))

    @cached_property
    def _by_name(self) -> dict[str, Tenant]:
        by_name: dict[str, Tenant] = {}
        for tenant in self.tenants:
            by_name.setdefault(tenant.name, tenant)
        return by_name

    @property
    def tenant_files(self) -> list[TenantFile]:
        return [f for f in self.files if f.is_tenant_file]

    def tenant(self, name: str) -> Tenant | None:
        return self._by_name.get(name)

    def waves(self) -> dict[int, list[Tenant]]:
        """Tenants per wave, in rollout order (wave 0, the canary, first)."""
        result: dict[int, list[Tenant]] = {}
        for tenant in self.tenants:
            result.setdefault(tenant.wave, []).append(tenant)
        return result

    @property
    def chart_version(self) -> str | None:
        """A version found in values/common.yaml (see VERSION_PATHS), if any."""
        if self.common_doc is None or not isinstance(self.common_doc.data, dict):
            return None
        for path in VERSION_PATHS:
            value = self.common_doc.get(path)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
        return None
