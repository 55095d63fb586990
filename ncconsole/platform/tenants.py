"""Which tenant a platform object belongs to: a PgBouncer database by its name, an alert or a
silence by its labels. The conventions are settings; these functions only apply them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

TENANT_FIELD = "{tenant}"


@lru_cache(maxsize=32)
def _database_regex(pattern: str) -> re.Pattern[str]:
    before, _, after = pattern.partition(TENANT_FIELD)
    return re.compile(re.escape(before) + r"([a-z0-9][a-z0-9_-]*?)" + re.escape(after) + r"\Z")


def database_for(tenant: str, pattern: str) -> str:
    """The database name a tenant's Nextcloud uses, e.g. pattern `nc_{tenant}`."""
    return pattern.replace(TENANT_FIELD, tenant)


def tenant_of_database(database: str, pattern: str) -> str | None:
    """The tenant whose database this is, or None (PgBouncer's own, or another service's).

    Tenant names are DNS labels (no `_`), and platforms often turn their `-` into `_` for
    database names, so an `_` in the tenant part reads as `-`."""
    if TENANT_FIELD not in pattern:
        return None
    match = _database_regex(pattern).match(database)
    return match.group(1).replace("_", "-") if match else None


def tenant_of_labels(
    labels: Mapping[str, str],
    *,
    tenant_labels: Sequence[str],
    namespace_labels: Sequence[str],
    namespace_prefix: str,
    not_tenants: Sequence[str] = (),
) -> str | None:
    """The tenant an alert (or silence) is about: the first of `tenant_labels` present, else a
    namespace label whose value starts with the tenant namespace prefix and is not one of
    `not_tenants` (the platform's own namespace, e.g. nc-platform); None = platform-wide."""
    for key in tenant_labels:
        value = labels.get(key)
        if value:
            return value
    for key in namespace_labels:
        value = labels.get(key) or ""
        if value in not_tenants:
            continue
        if namespace_prefix and value.startswith(namespace_prefix) and value != namespace_prefix:
            return value[len(namespace_prefix) :]
    return None
