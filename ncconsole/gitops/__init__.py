"""The platform GitOps repository: tenant values, common/env values, validation, scaffolding.

Public API (everything else in this package is an implementation detail):

    load_repo(root: Path) -> Repo                      # raises RepoError only if unreadable
    validate(repo: Repo, settings: Settings) -> list[Finding]
    has_errors(findings) -> bool
    create_tenant(root, settings, *, name, wave, hostname, environment=None, bucket=None)
        -> NewTenant                                   # raises TenantRejected (exit 1)
    RULES: dict[rule id, (severity, description)]
"""

from ncconsole.gitops.loader import load_repo, parse_wave
from ncconsole.gitops.model import Finding, Repo, Tenant, TenantFile
from ncconsole.gitops.rules import RULES, has_errors, validate
from ncconsole.gitops.scaffold import NewTenant, TenantRejected, create_tenant, default_environment

__all__ = [
    "RULES",
    "Finding",
    "NewTenant",
    "Repo",
    "Tenant",
    "TenantFile",
    "TenantRejected",
    "create_tenant",
    "default_environment",
    "has_errors",
    "load_repo",
    "parse_wave",
    "validate",
]
