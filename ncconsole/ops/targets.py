"""Which tenants an action runs on: names, a wave, or all of them, from the platform repo."""

from __future__ import annotations

from collections.abc import Sequence

from ncconsole.errors import RepoError
from ncconsole.gitops.loader import load_repo
from ncconsole.gitops.model import Tenant
from ncconsole.ops.errors import OpsError, Refused
from ncconsole.settings import Settings


def select_tenants(
    settings: Settings, names: Sequence[str] = (), wave: int | None = None, everyone: bool = False
) -> list[Tenant]:
    """Tenants from the repo in wave/name order; OpsError naming what matched nothing, or
    when more than one way of choosing was given (TENANT with --wave, --wave with --all)."""
    given = [
        way
        for way, used in (
            (f"TENANT ({', '.join(names)})", bool(names)),
            (f"--wave {wave}", wave is not None),
            ("--all", everyone),
        )
        if used
    ]
    if not given:
        raise OpsError("name tenants, or pass --wave N or --all")
    if len(given) > 1:
        raise OpsError(f"{' and '.join(given)} both choose tenants; give only one of them")
    repo = load_repo(settings.repo)
    tenants = sorted(repo.tenants, key=lambda t: (t.wave, t.name))
    if not tenants:
        raise OpsError(
            f"{settings.repo}: the repository has no tenants (no readable "
            "values/tenants/tenant-<name>.yaml); `ncconsole validate` says why"
        )
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
        waves = ", ".join(str(w) for w in sorted({t.wave for t in tenants}))
        raise OpsError(f"wave {wave}: no tenants in {settings.repo} (waves: {waves})")
    return chosen


def require_in_repo(settings: Settings, tenant: str, *, not_in_repo: bool) -> None:
    """Refuse an action that would create something for a tenant the repository does not
    list (a typo would make a stray namespace), unless the user says it is meant."""
    if not_in_repo:
        return
    try:
        known = {t.name for t in load_repo(settings.repo).tenants}
    except RepoError as err:
        raise Refused(f"{err}; or pass --not-in-repo to act without the repository") from None
    if tenant not in known:
        raise Refused(
            f"tenant {tenant} is not in {settings.repo} (values/tenants/tenant-{tenant}.yaml); "
            "check the name, or pass --not-in-repo if it is meant to exist only in the cluster"
        )
