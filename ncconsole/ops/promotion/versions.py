"""What promoting a wave changes, for its confirmation: the chart and Nextcloud versions
from the wave's deployed revision to the target (gitops/release.py reads them from the local
clone), with the short commits beside them."""

from __future__ import annotations

from collections import Counter

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.gitops.release import describe_change
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
            counts[max(app.history, key=lambda entry: entry.id).revision] += 1
    return counts.most_common(1)[0][0] if counts else ""


def promotion_change(
    settings: Settings, snapshot: FleetSnapshot | None, status: WaveStatus, target: str
) -> str:
    """ "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8 (a3ac7de → 3aad32a)"; the commits
    alone, saying why, when the local clone lacks one of them."""
    deployed = deployed_revision(snapshot, status) if snapshot is not None else ""
    if not deployed or not target:
        return f"to {target[:7] or '?'}"
    commits = f"{deployed[:7]} → {target[:7]}"
    change = describe_change(settings.repo, deployed, target)
    if not change:
        return f"{commits} (not both in {settings.repo}: git fetch there to see the versions)"
    return f"{change} ({commits})"
