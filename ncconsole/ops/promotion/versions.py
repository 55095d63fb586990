"""What promoting a wave changes, for its confirmation: the chart and Nextcloud versions
from the wave's deployed revision to the target (gitops/release.py reads them from the local
clone), with the short commits beside them."""

from __future__ import annotations

import re
from collections import Counter

from ncconsole.fleet.health import deployed_revision as app_deployed_revision
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.gitops.release import describe_change
from ncconsole.kube import revisions
from ncconsole.ops.promotion.waves import WaveStatus
from ncconsole.settings import Settings


def deployed_revision(snapshot: FleetSnapshot, status: WaveStatus) -> str:
    """The revision most of the wave's tenants run that are not at the target yet: their
    Application's newest history entry (status.sync.revision is what Argo CD compares with,
    the target, not what is deployed)."""
    waiting = {t.tenant for t in status.tenants if not t.at_target}
    counts: Counter[str] = Counter()
    for tenant in snapshot.tenants:
        app = tenant.app
        if tenant.name in waiting and app is not None and app.history:
            counts[app_deployed_revision(app)] += 1
    return counts.most_common(1)[0][0] if counts else ""


_HEX = re.compile(r"^[0-9a-f]{7,64}$")


def values_commit(key: str) -> str:
    """The Git commit in a revision key (kube/revisions.py): the values repo's of a
    multi-source Application ("6.6.9,<sha>"), the one revision of a single-source one."""
    commits = [part for part in revisions.split(key) if _HEX.match(part)]
    return commits[-1] if commits else ""


def chart_version(key: str) -> str | None:
    """The chart version in a multi-source revision key (what Argo CD deploys), else None:
    a single-source platform's chart version is the one values/common.yaml names."""
    parts = revisions.split(key)
    if len(parts) < 2:
        return None
    charts = [part for part in parts if part and not _HEX.match(part)]
    return charts[0] if charts else None


def promotion_change(
    settings: Settings, snapshot: FleetSnapshot | None, status: WaveStatus, target: str
) -> str:
    """ "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8 (a3ac7de → 3aad32a)"; the commits
    alone, saying why, when the local clone lacks one of them. The keys are Argo CD's revision
    keys (kube/revisions.py): a multi-source one's chart version is what Argo CD deploys, the
    Nextcloud version is read at its values commit."""
    deployed = deployed_revision(snapshot, status) if snapshot is not None else ""
    if not deployed or not target:
        return f"to {revisions.short(target)}"
    commits = f"{revisions.short(deployed)} → {revisions.short(target)}"
    change = describe_change(
        settings.repo,
        values_commit(deployed),
        values_commit(target),
        charts=(chart_version(deployed), chart_version(target)),
    )
    if not change:
        return f"{commits} (not both in {settings.repo}: git fetch there to see the versions)"
    return f"{change} ({commits})"
