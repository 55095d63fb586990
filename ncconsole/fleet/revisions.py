"""What an Argo CD revision record means for a tenant: the chart version and the commit of the
values repository, from either shape Argo CD writes (DOMAIN.md §2):

- multi-source: `revisions[]` position by position with `sources[]` (the entry's own, else
  the Application's spec) - a source with `chart` gives the chart version, a Git source
  (the `ref: values` one first) the commit; `revision` is empty;
- single-source: `revision` alone - a chart version when the source is a Helm chart,
  otherwise a commit.

Used by history, the describe view and the diff, so all say "6.6.9 · 3aad32a" alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ncconsole.kube import revisions

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Revisions:
    chart: str = ""  # chart version, "" when not known
    commit: str = ""  # values repo commit (full sha as recorded), "" when not known

    def short(self) -> str:
        parts = [p for p in (self.chart, self.commit[:7]) if p]
        return " · ".join(parts) if parts else "–"

    def as_dict(self) -> dict[str, str]:
        return {"chart": self.chart, "commit": self.commit}


def app_sources(app: dict[str, Any]) -> list[dict[str, Any]]:
    spec = app.get("spec") or {}
    if isinstance(spec.get("sources"), list) and spec["sources"]:
        return [s for s in spec["sources"] if isinstance(s, dict)]
    return [spec["source"]] if isinstance(spec.get("source"), dict) else []


def revisions_of(record: dict[str, Any], sources: list[dict[str, Any]]) -> Revisions:
    """The chart version and commit of a history entry, `status.sync` or a syncResult."""
    plural = [str(r or "") for r in record.get("revisions") or []]
    own = record.get("sources")
    if isinstance(own, list) and own:
        sources = [s for s in own if isinstance(s, dict)]
    elif isinstance(record.get("source"), dict):
        sources = [record["source"]]
    if plural:
        chart, commits = "", []
        for i, revision in enumerate(plural):
            source = sources[i] if i < len(sources) else {}
            if source.get("chart"):
                chart = chart or revision
            elif revision:
                commits.append((bool(source.get("ref")), revision))
        commits.sort(key=lambda item: not item[0])  # the values repo (`ref`) first
        return Revisions(chart, commits[0][1] if commits else "")
    single = str(record.get("revision") or "")
    if not single:
        return Revisions()
    source = sources[0] if sources else {}
    if source.get("chart") or not _SHA.match(single):
        return Revisions(chart=single)
    return Revisions(commit=single)


def revisions_of_key(key: str, multi: bool, sources: list[dict[str, Any]]) -> Revisions:
    """The chart version and commit a revision key (kube/revisions.py: per-source revisions
    joined by ",") names for an Application of this shape."""
    if multi or revisions.SEP in key:
        return revisions_of({"revisions": list(revisions.split(key))}, sources)
    return revisions_of({"revision": key}, sources)
