"""The desired side of the fleet: tenants declared in the platform repo (via ncconsole.gitops)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.join import DesiredTenant
from ncconsole.gitops.model import TENANTS_DIR


@dataclass(frozen=True)
class DesiredFleet:
    tenants: dict[str, DesiredTenant]
    problems: tuple[str, ...]
    # False when the repo could not be read: then no Application is called an orphan.
    readable: bool


def load_desired(repo: Path) -> DesiredFleet:
    """The tenants declared in the platform repo (via ncconsole.gitops)."""
    from ncconsole.gitops.loader import load_repo

    try:
        loaded = load_repo(repo)
    except NcConsoleError as err:
        return DesiredFleet({}, (str(err),), readable=False)
    problems = tuple(
        f"{entry.rel}: not a usable tenant file (run `ncconsole validate`)"
        for entry in loaded.tenant_files
        if entry.tenant is None
    )
    tenants = {
        t.name: DesiredTenant(t.name, t.wave, t.environment, t.hostname, t.bucket)
        for t in loaded.tenants
    }
    return DesiredFleet(tenants, problems, readable=True)


def repo_signature(repo: Path) -> tuple[Any, ...]:
    """Names and modification times of the tenant files: changes when the desired state may."""
    tenants = Path(repo).expanduser() / TENANTS_DIR
    try:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in tenants.rglob("*.yaml")))
    except OSError:
        return ()
