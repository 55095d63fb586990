"""Cold start of the console's fleet state, in a fresh process: one JSON line on stdout.

    NCCONSOLE_CONFIG=DIR/config.yaml python benchmarks/coldstart.py --tenants N

`imports` is the time to import what the console needs (from this process's start);
`cold_start` is from `FleetState.start()` to the first snapshot in which every tenant is
joined with its Application and all its pods (what a user waits for once the window is up).
A fresh process per run, so the figure does not profit from a warm heap or a second run.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

STARTED = time.monotonic()

from ncconsole.fleet.model import FleetSnapshot  # noqa: E402
from ncconsole.fleet.state import FleetState  # noqa: E402
from ncconsole.settings import load_settings  # noqa: E402


def fleet_loaded(snapshot: FleetSnapshot | None, tenants: int, pods: int = 3) -> bool:
    """Every tenant joined with its Application and `pods` pods, every kind listed."""
    if snapshot is None or not snapshot.complete or len(snapshot.tenants) < tenants:
        return False
    return all(t.app is not None and len(t.pods) >= pods for t in snapshot.tenants)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    imported = time.monotonic()
    settings = load_settings()
    state = FleetState(settings, probes=False)
    done = threading.Event()
    loaded_at: list[float] = []

    def published(snapshot: FleetSnapshot) -> None:
        if not loaded_at and fleet_loaded(snapshot, args.tenants):
            loaded_at.append(time.monotonic())
            done.set()

    state.subscribe(published)
    began = time.monotonic()
    state.start()
    ok = done.wait(args.timeout)
    state.stop()
    result = {
        "imports": imported - STARTED,
        "cold_start": (loaded_at[0] - began) if ok else None,
    }
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
