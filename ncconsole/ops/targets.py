"""Which tenants an action runs on: names, a wave, or all of them, from the platform repo."""

from __future__ import annotations

from collections.abc import Sequence

from ncconsole.gitops.loader import load_repo
from ncconsole.gitops.model import Tenant
from ncconsole.ops.errors import OpsError
from ncconsole.settings import Settings


def select_tenants(
    settings: Settings, names: Sequence[str] = (), wave: int | None = None, everyone: bool = False
) -> list[Tenant]:
    """Tenants from the repo in wave/name order; OpsError naming what matched nothing."""
    if not names and wave is None and not everyone:
        raise OpsError("name tenants, or pass --wave N or --all")
    repo = load_repo(settings.repo)
    tenants = sorted(repo.tenants, key=lambda t: (t.wave, t.name))
    if everyone:
        chosen = tenants
    else:
        chosen = [t for t in tenants if wave is not None and t.wave == wave]
        by_name = {t.name: t for t in tenants}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise OpsError(
                f"{', '.join(unknown)}: no such tenant in {settings.repo} "
                "(values/tenants/tenant-<name>.yaml)"
            )
        chosen += [by_name[n] for n in names if by_name[n] not in chosen]
    if not chosen:
        raise OpsError(f"wave {wave}: no tenants in {settings.repo}")
    return chosen
