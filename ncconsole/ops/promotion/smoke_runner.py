"""The promotion's default `run_smoke`: checks a tenant on the live fleet with ops/smoke.py
once its rollout has settled (fleet/health.rollout_settled), and records the outcome in the
shared smoke record (fleet/smoke_record.py) so "passed recently" survives between runs."""

from __future__ import annotations

from ncconsole.fleet.health import rollout_settled
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.fleet.state import FleetState, FleetTimeout
from ncconsole.kube.connection import ApiUnreachable, KubeConnection
from ncconsole.ops.smoke import SmokeChecker
from ncconsole.settings import Settings


class FleetSmoke:
    """`run_smoke(tenant)` on a running FleetState: waits (up to `settle`) for the fleet to
    see the tenant settled, then runs every smoke check and records the outcome."""

    def __init__(
        self,
        fleet: FleetState,
        conn: KubeConnection,
        settings: Settings,
        record: SmokeRecord | None = None,
        settle: float = 30.0,
        ignore: tuple[str, ...] = (),
    ) -> None:
        self.fleet = fleet
        self.ignore = ignore  # check names that do not count (e.g. "argocd" after a rollback)
        self.checker = SmokeChecker(conn, settings)
        self.record = record
        self.settle = settle

    def close(self) -> None:
        self.checker.close()

    def __call__(self, tenant: str) -> SmokeOutcome:
        def ready(snapshot: FleetSnapshot) -> bool:
            return rollout_settled(snapshot.tenant(tenant))

        try:
            snapshot = self.fleet.wait_for(ready, self.settle)
        except FleetTimeout as err:
            snapshot = err.snapshot
        state = snapshot.tenant(tenant)
        if state is None:
            outcome = SmokeOutcome(
                False, (f"tenant {tenant} is not in the fleet",), cluster=self.checker.conn.cluster
            )
        else:
            try:
                outcome = self.checker.check(state).outcome(self.ignore)
            except ApiUnreachable as err:
                outcome = SmokeOutcome(False, (f"api: {err}",), cluster=self.checker.conn.cluster)
        if self.record is not None:
            self.record.save(tenant, outcome)
        self.fleet.note_smoke({tenant: outcome})  # in the next snapshot, for the gates and rows
        return outcome
