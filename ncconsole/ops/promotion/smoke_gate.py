"""Smoke checks for the promotion gates: the last outcome per tenant, kept in the XDG state
dir so "passed recently" survives between runs, and the default `run_smoke` that checks a
tenant on the live fleet with ops/smoke.py once its rollout has settled."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from ncconsole.fleet import FleetState, FleetTimeout
from ncconsole.kube.connection import ApiUnreachable, KubeConnection
from ncconsole.ops.promotion.model import SmokeOutcome
from ncconsole.ops.smoke import FAIL, SmokeChecker
from ncconsole.settings import Settings, xdg_dir
from ncconsole.snapshot import FleetSnapshot, TenantState


def smoke_record_path() -> Path:
    return xdg_dir("state") / "smoke-results.json"


class SmokeRecord:
    """tenant -> latest SmokeOutcome, read from and written to a small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or smoke_record_path()
        self._lock = threading.Lock()

    def load(self) -> dict[str, SmokeOutcome]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        out = {}
        for tenant, item in (data if isinstance(data, dict) else {}).items():
            try:
                out[str(tenant)] = SmokeOutcome.from_dict(item)
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def save(self, tenant: str, outcome: SmokeOutcome) -> None:
        with self._lock:
            data = {t: o.as_dict() for t, o in self.load().items()}
            data[tenant] = outcome.as_dict()
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".smoke-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
            os.replace(tmp, self.path)


def _settled(tenant: TenantState | None) -> bool:
    """The rollout is over as the fleet sees it: app Healthy, pods replaced and Ready."""
    if tenant is None or tenant.app is None or tenant.deployment is None:
        return False
    dep = tenant.deployment
    pods = [p for p in tenant.pods if p.phase != "Succeeded"]
    return (
        tenant.app.health_status == "Healthy"
        and not tenant.app.operation_requested
        and dep.observed_generation >= dep.generation
        and dep.updated_replicas == dep.replicas == dep.ready_replicas
        and len(pods) == dep.replicas
        and all(p.ready and not p.deleting for p in pods)
    )


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
            return _settled(snapshot.tenant(tenant))

        try:
            snapshot = self.fleet.wait_for(ready, self.settle)
        except FleetTimeout as err:
            snapshot = err.snapshot
        state = snapshot.tenant(tenant)
        if state is None:
            outcome = SmokeOutcome(False, (f"tenant {tenant} is not in the fleet",))
        else:
            try:
                report = self.checker.check(state)
                failed = [
                    c for c in report.checks if c.status == FAIL and c.name not in self.ignore
                ]
                outcome = SmokeOutcome(
                    not failed,
                    tuple(f"{c.name}: {c.message}" for c in failed),
                    datetime.now(UTC),
                    state.app.sync_revision if state.app else "",
                )
            except ApiUnreachable as err:
                outcome = SmokeOutcome(False, (f"api: {err}",))
        if self.record is not None:
            self.record.save(tenant, outcome)
        return outcome
