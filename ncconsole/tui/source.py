"""Where the console gets its fleet pictures from.

The app renders FleetSnapshots and nothing else; `FleetSource` is the small contract it needs.
`ncconsole.fleet.state.FleetState` is the live source, and a `LiveFleet`: actions (occ, smoke,
promotions) run against the cluster it watches. `FixedFleetSource` holds snapshots handed to
it by its owner: the screenshot script and the snapshot tests use it to show a fixed fleet;
it is not a LiveFleet, so the console says actions need the live fleet instead of trying.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

from ncconsole.fleet.model import FleetSnapshot, SmokeOutcome
from ncconsole.settings import Settings

SnapshotCallback = Callable[[FleetSnapshot], None]


@runtime_checkable
class FleetSource(Protocol):
    """A publisher of immutable fleet snapshots.

    - `start()` begins observing and returns promptly; `stop()` ends it and is idempotent.
    - `snapshot` is the newest snapshot (or None before the first one exists).
    - `subscribe(callback)` calls `callback(snapshot)` for every new snapshot, possibly on a
      background thread and possibly coalesced; it returns a function that unsubscribes.
    - `focus(names)` says which tenants are on screen (a live source refreshes them first).
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def snapshot(self) -> FleetSnapshot | None: ...

    def subscribe(self, callback: SnapshotCallback) -> Callable[[], None]: ...

    def focus(self, names: Iterable[str]) -> None: ...


class FleetOpener(Protocol):
    """Opens the live fleet of other settings: how the console switches cluster (`:ctx`).
    `ncconsole` passes one (cli/console.py); a console on a fixed fleet has none."""

    def contexts(self, settings: Settings) -> list[str]:
        """The kube contexts one may switch to."""
        ...

    def settings_for(
        self, current: Settings, profile: str | None = None, context: str | None = None
    ) -> Settings:
        """The settings of profile `profile`, or of the current ones on context `context`."""
        ...

    def open(self, settings: Settings) -> FleetSource:
        """A connected, not yet started source; NcConsoleError naming the problem."""
        ...


@runtime_checkable
class LiveFleet(FleetSource, Protocol):
    """A FleetSource that watches a cluster (FleetState).

    - `wait_for(predicate, timeout)` blocks until a snapshot satisfies `predicate`.
    - `note_smoke(outcomes)` shows smoke outcomes this process just recorded in the next
      snapshot, before the record file is looked at again.
    """

    def wait_for(
        self, predicate: Callable[[FleetSnapshot], bool], timeout: float
    ) -> FleetSnapshot: ...

    def note_smoke(self, outcomes: Mapping[str, SmokeOutcome]) -> None: ...


class FixedFleetSource:
    """A FleetSource whose snapshots are pushed by hand with `publish`."""

    def __init__(self, snapshot: FleetSnapshot | None = None) -> None:
        self._snapshot = snapshot
        self._callbacks: list[SnapshotCallback] = []
        self._lock = threading.Lock()
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    @property
    def snapshot(self) -> FleetSnapshot | None:
        return self._snapshot

    def subscribe(self, callback: SnapshotCallback) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def focus(self, names: Iterable[str]) -> None:
        """Nothing to refresh: the snapshots are fixed."""

    def publish(self, snapshot: FleetSnapshot) -> None:
        """Make `snapshot` the current one and tell every subscriber."""
        with self._lock:
            self._snapshot = snapshot
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(snapshot)
