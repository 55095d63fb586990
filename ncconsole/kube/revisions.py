"""An Argo CD Application's revision(s) as one comparable value.

A single-source Application has one revision (`status.sync.revision`, `syncResult.revision`,
`history[].revision`). A multi-source one - the platform's template: the Nextcloud chart plus
the values repo as `ref: values` - has one per source, and Argo CD writes only the plural
fields (`revisions[]`), leaving the singular ones empty (argo-cd controller/state.go
CompareAppState and persistRevisionHistory, controller/sync.go SyncAppState).

The console handles both through one string, the *revision key*: the revisions in source order
joined by ",", e.g. "6.6.9,1f0c…" (chart version, values commit), or just the commit of a
single-source Application. Keys compare with ==, are stored in the smoke record as they are,
and are shown as the chart version and a short commit: "6.6.9@1f0c2ab".

"At the target" for two revisions means: both equal, position by position - the chart version
Argo CD compares with and the values commit it compares with. A new values commit (a tenant
file, common values) moves the target as much as a new chart version does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

SEP = ","
_COMMIT = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_COMMIT_PREFIX = re.compile(r"^[0-9a-f]{7,64}$")
SHORT_COMMIT = 7  # as git shows commits


def join(revisions: Iterable[str]) -> str:
    """The key of per-source revisions ("" when none is known)."""
    parts = [str(r or "") for r in revisions]
    return SEP.join(parts) if any(parts) else ""


def split(key: str) -> tuple[str, ...]:
    return tuple(key.split(SEP)) if key else ()


def is_commit(revision: str) -> bool:
    return bool(_COMMIT.match(revision))


def short(key: str) -> str:
    """For people: commits cut to 7 characters, a chart version as it is, joined by "@"
    ("6.6.9@1f0c2ab"); "?" when unknown."""
    parts = [p[:SHORT_COMMIT] if is_commit(p) else p for p in split(key)]
    return "@".join(p or "?" for p in parts) or "?"


def matches(given: str, actual: str) -> bool:
    """Whether `actual` is the revision(s) `given` names: equal position by position, where a
    given commit may be a prefix (at least 7 characters) of the actual one."""
    want, have = split(given), split(actual)
    if not want or len(want) != len(have):
        return False
    return all(
        w == h or (len(w) >= SHORT_COMMIT and bool(_COMMIT_PREFIX.match(w)) and h.startswith(w))
        for w, h in zip(want, have, strict=True)
    )


def resolve(given: str, known: Iterable[str], fallback: str = "") -> str:
    """The key the user's `given` revision names.

    `given` may be a whole key ("6.6.9,<sha>"), "CHART@COMMIT", or one revision: a commit (or
    a prefix of at least 7 characters) or a chart version. A single revision is looked up among
    the `known` keys (what Argo CD compares the fleet with, and their history); if exactly one
    has it at some position, that key is meant. Otherwise it replaces the matching position of
    `fallback` (the fleet's current key): a commit the Git source's, anything else the chart's.
    """
    if not given:
        return fallback
    if SEP in given:
        return given
    known = [k for k in dict.fromkeys(known) if k]
    width = len(split(fallback)) or 1
    if "@" in given and width > 1:
        chart, _, commit = given.partition("@")
        candidate = _replace(_replace(fallback, chart, chart_position=True), commit, False)
        hits = [k for k in known if matches(candidate, k)]
        return hits[0] if len(hits) == 1 else candidate
    hits = [k for k in known if any(matches(given, part) for part in split(k))]
    if len(hits) == 1:
        return hits[0]
    if width == 1:
        return given
    return _replace(fallback, given, chart_position=not _COMMIT_PREFIX.match(given))


def _replace(key: str, revision: str, chart_position: bool) -> str:
    """`key` with the chart's (first non-commit) or the Git source's (last commit) revision
    replaced by `revision`."""
    parts = list(split(key))
    if not parts:
        return revision
    commits = [i for i, p in enumerate(parts) if is_commit(p) or p in ("HEAD", "main")]
    charts = [i for i in range(len(parts)) if i not in commits]
    positions = charts if chart_position else commits
    index = positions[0 if chart_position else -1] if positions else len(parts) - 1
    parts[index] = revision
    return join(parts)


def for_sources(key: str, count: int) -> list[str]:
    """The per-source revisions of `key` for an Application with `count` sources; ValueError
    when the key names another number of revisions."""
    parts = list(split(key))
    if len(parts) != count:
        raise ValueError(
            f"revision {short(key)} names {len(parts)} revision(s); the Application has "
            f"{count} source(s)"
        )
    return parts


def describe(keys: Sequence[str]) -> str:
    return ", ".join(short(k) for k in keys)
