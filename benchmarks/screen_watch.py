"""Watching the console's fleet screen from inside the app (headless `run_test`).

`PaintObserver` is attached after the fleet screen's own snapshot watcher, so it runs once
the table holds the new snapshot's rows; it then asks for a callback after the next screen
refresh (`call_after_refresh`), and that moment is "on screen": the compositor has rendered
the frame (headless Textual renders frames too, it only does not write them to a terminal).

For every tenant whose state changed it reads the RST cell (restarts) back from the table
and remembers when each value was first painted; the churn driver's records are matched
against those afterwards (`latencies`). "Full paint" is the first frame after the table got
the first snapshot in which every tenant is joined with its Application and pods.
"""

from __future__ import annotations

import bisect
import json
import time
from pathlib import Path
from typing import Any

from coldstart import fleet_loaded

from ncconsole.snapshot import FleetSnapshot, TenantState
from ncconsole.tui.fleet_rows import tenant_key


class DeferredSource:
    """The live FleetState as the app's FleetSource, started when the benchmark says so
    (the app would start it on mount; the benchmark wants an app idle and waiting first)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def start(self) -> None:
        pass

    def begin(self) -> None:
        self.state.start()

    def stop(self) -> None:
        self.state.stop()

    @property
    def snapshot(self) -> FleetSnapshot | None:
        return self.state.snapshot if self.state.snapshot.version else None

    def subscribe(self, callback: Any) -> Any:
        return self.state.subscribe(callback)


class PaintObserver:
    def __init__(self, app: Any, tenants: int) -> None:
        self.app = app
        self.table = app.screen.table
        self.tenants = tenants
        self.full_paint_at: float | None = None
        self.snapshots_shown = 0
        self._previous: dict[str, TenantState] = {}
        # tenant -> ([paint times], [restart totals shown then]), in paint order
        self._shown: dict[str, tuple[list[float], list[int]]] = {}

    def attach(self) -> None:
        self.app.screen.watch(self.app, "snapshot", self._snapshot_shown, init=False)

    def _snapshot_shown(self, snapshot: FleetSnapshot | None) -> None:
        if snapshot is None:
            return
        self.snapshots_shown += 1
        changed = [t for t in snapshot.tenants if self._previous.get(t.name) is not t]
        self._previous = {t.name: t for t in snapshot.tenants}
        values: list[tuple[str, int]] = []
        for tenant in changed:
            try:
                cell = self.table.get_cell(tenant_key(tenant.name), "restarts")
                values.append((tenant.name, int(str(cell.plain).strip() or 0)))
            except Exception:  # row filtered out or not a number: nothing to time
                continue
        full = self.full_paint_at is None and fleet_loaded(snapshot, self.tenants)
        if full and self.table.row_count < self.tenants:
            full = False
        self.app.call_after_refresh(self._painted, values, full)

    def _painted(self, values: list[tuple[str, int]], full: bool) -> None:
        now = time.monotonic()
        for name, value in values:
            times, shown = self._shown.setdefault(name, ([], []))
            if not shown or shown[-1] != value:
                times.append(now)
                shown.append(value)
        if full and self.full_paint_at is None:
            self.full_paint_at = now

    def latencies(self, churn_log: Path, until: float) -> tuple[list[float], int, int]:
        """(latencies in s, changes sent, changes never seen) for the churn driver's records
        sent before `until` (later ones may still be in flight)."""
        found: list[float] = []
        sent = missing = 0
        for line in churn_log.read_text().splitlines():
            record = json.loads(line)
            if "tenant" not in record or record["t"] > until:
                continue
            sent += 1
            times, shown = self._shown.get(record["tenant"], ([], []))
            start = bisect.bisect_left(times, record["t"])
            seen = next(
                (times[i] for i in range(start, len(times)) if shown[i] >= record["expect"]),
                None,
            )
            if seen is None:
                missing += 1
            else:
                found.append(seen - record["t"])
        return found, sent, missing
