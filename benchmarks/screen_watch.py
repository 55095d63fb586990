"""Watching a change travel through the console: published snapshot -> table -> painted frame.

Three `Timeline`s record, per tenant, when each restart total was first seen at a stage:
- `published`: FleetState handed a snapshot with it to its subscribers (publisher thread);
- `table`: the fleet screen's table holds it (the observer runs right after the screen's own
  snapshot watcher, so after `show_rows`), read back from the RST cell;
- `painted`: the first screen refresh after that (`call_after_refresh`): the compositor has
  rendered the frame (headless Textual renders frames too; it only does not write them to a
  terminal). Only rows inside the table's viewport are repainted, so "on screen" latency is
  taken for the tenants whose rows are visible (`visible_tenants`).
"Full paint" is the first frame after the table got the first snapshot in which every tenant
is joined with its Application and pods.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from pathlib import Path
from typing import Any

from coldstart import fleet_loaded

from ncconsole.fleet.model import FleetSnapshot, TenantState
from ncconsole.render.fleet_rows import tenant_key, tenant_of


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

    def focus(self, names: Any) -> None:
        self.state.focus(names)


class Timeline:
    """tenant -> when each restart total was first seen (in time order)."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}
        self._values: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def add(self, tenant: str, value: int, at: float) -> None:
        with self._lock:
            values = self._values.setdefault(tenant, [])
            if not values or values[-1] != value:
                self._times.setdefault(tenant, []).append(at)
                values.append(value)

    def first(self, tenant: str, since: float, value: int) -> float | None:
        """When `tenant` first showed at least `value` at or after `since`."""
        times, values = self._times.get(tenant, []), self._values.get(tenant, [])
        start = bisect.bisect_left(times, since)
        return next((times[i] for i in range(start, len(times)) if values[i] >= value), None)


def restarts(tenant: TenantState) -> int:
    return sum(pod.restarts for pod in tenant.pods)


class PublishedLog:
    """FleetState subscriber: records the restart totals of the tenants each snapshot
    changed (unchanged tenants keep their TenantState object)."""

    def __init__(self) -> None:
        self.timeline = Timeline()
        self._previous: dict[str, TenantState] = {}

    def __call__(self, snapshot: FleetSnapshot) -> None:
        now = time.monotonic()
        previous = self._previous
        for tenant in snapshot.tenants:
            if previous.get(tenant.name) is not tenant:
                self.timeline.add(tenant.name, restarts(tenant), now)
        self._previous = {t.name: t for t in snapshot.tenants}


class PaintObserver:
    def __init__(self, app: Any, tenants: int) -> None:
        self.app = app
        self.table = app.screen.table
        self.tenants = tenants
        self.full_paint_at: float | None = None
        self.snapshots_shown = 0
        self.table_timeline = Timeline()
        self.painted = Timeline()
        self._previous: dict[str, TenantState] = {}

    def attach(self) -> None:
        self.app.screen.watch(self.app, "snapshot", self._snapshot_shown, init=False)

    def visible_tenants(self) -> list[str]:
        """Tenants whose rows are inside the table's viewport now (header row excluded)."""
        first = int(self.table.scroll_y)
        count = max(0, self.table.size.height - 1)
        keys = self.table.row_keys[first : first + count]
        return [name for name in (tenant_of(key) for key in keys) if name]

    def _snapshot_shown(self, snapshot: FleetSnapshot | None) -> None:
        if snapshot is None:
            return
        now = time.monotonic()
        self.snapshots_shown += 1
        changed = [t for t in snapshot.tenants if self._previous.get(t.name) is not t]
        self._previous = {t.name: t for t in snapshot.tenants}
        values: list[tuple[str, int]] = []
        for tenant in changed:
            try:
                cell = self.table.get_cell(tenant_key(tenant.name), "restarts")
                value = int(str(cell.plain).strip() or 0)
            except Exception:  # row filtered out or not a number: nothing to time
                continue
            values.append((tenant.name, value))
            self.table_timeline.add(tenant.name, value, now)
        full = self.full_paint_at is None and fleet_loaded(snapshot, self.tenants)
        if full and self.table.row_count < self.tenants:
            full = False
        self.app.call_after_refresh(self._painted, values, full)

    def _painted(self, values: list[tuple[str, int]], full: bool) -> None:
        now = time.monotonic()
        for name, value in values:
            self.painted.add(name, value, now)
        if full and self.full_paint_at is None:
            self.full_paint_at = now


def churn_records(churn_log: Path, until: float) -> list[dict[str, Any]]:
    """The churn driver's changes sent before `until` (later ones may still be in flight)."""
    records = []
    for line in churn_log.read_text().splitlines():
        record = json.loads(line)
        if "tenant" in record and record["t"] <= until:
            records.append(record)
    return records


def stage_latencies(
    records: list[dict[str, Any]], timeline: Timeline, only: set[str] | None = None
) -> tuple[list[float], int]:
    """(latency from the change to `timeline` showing it, changes never seen there)."""
    found, missing = [], 0
    for record in records:
        if only is not None and record["tenant"] not in only:
            continue
        seen = timeline.first(record["tenant"], record["t"], record["expect"])
        if seen is None:
            missing += 1
        else:
            found.append(seen - record["t"])
    return found, missing
