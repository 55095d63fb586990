"""Reading the fleet once, for the one-shot subcommands (status, smoke)."""

from __future__ import annotations

import time

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot, KindStatus
from ncconsole.fleet.state import FleetState, FleetTimeout
from ncconsole.ops.platform import platform_reader
from ncconsole.settings import Settings

# An API that refuses connections gets a short grace period for the retries, not the whole
# list timeout.
LIST_TIMEOUT = 15.0
UNREACHABLE_GRACE = 2.0
# Probe workers of a one-shot read: each tenant is probed once, so what bounds the wait is
# how many answers may be outstanding at once (each within its own timeout).
ONE_SHOT_CONCURRENCY = 64


def start_fleet(
    settings: Settings, *, probes: bool, platform: bool = False
) -> tuple[FleetState, FleetSnapshot]:
    """A started FleetState and its first complete snapshot; with `platform` it also reads
    the shared platform (the snapshot's platform_reading, once taken). When the cluster
    cannot be read the fleet is stopped and NcConsoleError says why in one line."""
    if probes:
        settings = one_shot_probes(settings)
    reader = platform_reader(settings) if platform else None
    fleet = FleetState(settings, probes=probes, platform_reader=reader)
    if probes:
        fleet.lazy_period = fleet.coalesce  # every answer reaches a snapshot at once
    fleet.start()
    started = time.monotonic()

    def listed_or_unreachable(snapshot: FleetSnapshot) -> bool:
        given_up = time.monotonic() - started > UNREACHABLE_GRACE
        return snapshot.complete or (not snapshot.api_reachable and given_up)

    try:
        try:
            snapshot = fleet.wait_for(listed_or_unreachable, LIST_TIMEOUT)
        except FleetTimeout as err:
            snapshot = err.snapshot
        where = snapshot.cluster or "the cluster"
        if any(k.status is KindStatus.UNAUTHORIZED for k in snapshot.kinds.values()):
            # Nothing read from the cluster can be trusted: no table of "healthy" tenants.
            raise NcConsoleError(
                f"cannot read the fleet from {where}: credentials rejected (401 Unauthorized);"
                " renew the kubeconfig's token"
            )
        if not snapshot.complete:
            reason = snapshot.api_error or f"no answer within {LIST_TIMEOUT:g} s"
            raise NcConsoleError(f"cannot read the fleet from {where}: {reason}")
    except BaseException:
        fleet.stop()
        raise
    return fleet, snapshot


def one_shot_probes(settings: Settings) -> Settings:
    """Probe settings for reading the fleet once: every tenant probed once, as fast as the
    workers allow (the rate budget is for the console's endless rounds), and no connection
    kept for a next round that does not come."""
    web, s3 = settings.web, settings.s3
    return settings.model_copy(
        update={
            "web": web.model_copy(
                update={
                    "max_rate": 0.0,
                    "keepalive": 0,
                    "concurrency": max(web.concurrency, ONE_SHOT_CONCURRENCY),
                }
            ),
            "s3": s3.model_copy(
                update={"max_rate": 0.0, "concurrency": max(s3.concurrency, ONE_SHOT_CONCURRENCY)}
            ),
        }
    )
