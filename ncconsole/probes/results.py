"""What the outside-in probes found: one result type per probe, immutable, with the time it
was taken. The fleet model carries the latest of each per tenant."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StatusPhpProbe:
    """Result of GET https://<hostname>/status.php."""

    checked_at: datetime
    latency_ms: float
    ok: bool
    http_status: int | None = None
    installed: bool | None = None
    maintenance: bool | None = None
    needs_db_upgrade: bool | None = None
    version: str = ""
    versionstring: str = ""
    # One line saying what went wrong, e.g. "timeout after 5.0 s", "HTTP 500".
    error: str = ""


@dataclass(frozen=True, slots=True)
class BucketProbe:
    """Result of a HeadBucket on the tenant's bucket."""

    checked_at: datetime
    latency_ms: float
    # ok | missing | denied | timeout | unreachable | error | no-credentials
    state: str
    object_count: int | None = None
    bytes_used: int | None = None
    quota_max_size: int | None = None
    quota_max_objects: int | None = None
    error: str = ""


_TIMING = frozenset({"checked_at", "latency_ms"})
_ANSWER_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind) if f.name not in _TIMING)
    for kind in (StatusPhpProbe, BucketProbe)
}


def same_answer(one: Any, other: Any) -> bool:
    """Whether two results (or None) say the same, when and how fast they were taken aside:
    a repeated answer is not news (field by field; `dataclasses.replace` showed in profiles
    at hundreds of results a second)."""
    if one is None or other is None or type(one) is not type(other):
        return one is other
    return all(getattr(one, name) == getattr(other, name) for name in _ANSWER_FIELDS[type(one)])
