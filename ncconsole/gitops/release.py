"""What a revision of the platform repo deploys, in the words people use: the chart version and
the Nextcloud version of values/common.yaml at that commit, read with `git show` from the
local clone. A promotion's confirmation says "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8"
instead of two commit ids.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

COMMON_VALUES = "values/common.yaml"
GIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Release:
    chart: str | None
    nextcloud: str | None  # the image tag without its flavour: 30.0.8-apache -> 30.0.8


def release_at(repo: Path, revision: str) -> Release | None:
    """The release values/common.yaml names at `revision`; None when the local clone does not
    have that commit (or git, or the file)."""
    if not revision:
        return None
    try:
        shown = subprocess.run(
            ["git", "-C", str(repo), "show", f"{revision}:{COMMON_VALUES}"],
            capture_output=True, timeout=GIT_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if shown.returncode != 0:
        return None
    try:
        values = yaml.safe_load(shown.stdout)
    except yaml.YAMLError:
        return None
    if not isinstance(values, dict):
        return None
    chart = _text(values, "chart", "version")
    tag = _text(values, "image", "tag") or _text(values, "nextcloud", "image", "tag")
    return Release(chart, tag.split("-", 1)[0] if tag else None)


def _text(values: dict, *keys: str) -> str | None:
    node: object = values
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return str(node) if isinstance(node, str | int | float) and not isinstance(node, bool) else None


def describe_change(
    repo: Path,
    deployed: str,
    target: str,
    charts: tuple[str | None, str | None] = (None, None),
) -> str:
    """ "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8" (only what changes; "same chart and
    Nextcloud version" when nothing does), or "" when either commit is not in the clone.
    `charts` (deployed, target), when known, are the chart versions Argo CD deploys (a
    multi-source Application's chart source) and win over values/common.yaml's."""
    before, after = release_at(repo, deployed), release_at(repo, target)
    if before is None or after is None:
        return ""
    before = Release(charts[0] or before.chart, before.nextcloud)
    after = Release(charts[1] or after.chart, after.nextcloud)
    parts = [
        f"{label} {old or '?'} → {new or '?'}"
        for label, old, new in (
            ("chart", before.chart, after.chart),
            ("Nextcloud", before.nextcloud, after.nextcloud),
        )
        if old != new
    ]
    return ", ".join(parts) or "same chart and Nextcloud version"
