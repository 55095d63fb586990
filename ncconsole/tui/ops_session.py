"""What the console's action screens share: one API connection, the auditor, one wave
session (promotions and the ApplicationSet's strategy), occ history per tenant and the last
smoke result per tenant (the shared record, fleet/smoke_record.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from ncconsole.fleet.model import SmokeOutcome
from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.fleet.state import FleetState
from ncconsole.locations import occ_history_path
from ncconsole.ops.errors import OpsError
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.ops.session import ClusterSession, open_cluster
from ncconsole.settings import Settings
from ncconsole.tui.source import FleetSource, LiveFleet

HISTORY_LIMIT = 100


class OpsSession:
    """Lazily opens the ops' cluster session (on the live fleet's connection when there is
    one); screens pass `cluster()`'s connection and auditor on to the operations."""

    def __init__(self, settings: Settings, source: FleetSource | None = None) -> None:
        self.settings = settings
        self.source = source
        self._lock = threading.Lock()
        self._cluster: ClusterSession | None = None
        self._waves: WaveSession | None = None
        self._waves_lock = threading.Lock()
        # Written by every smoke run; the live fleet joins it into each tenant's state.
        self.smoke_record = SmokeRecord()
        self._reported = 0

    def cluster(self) -> ClusterSession:
        """The session actions run in; KubeConfigError (one line) when it cannot connect."""
        with self._lock:
            if self._cluster is None:
                fleet = self.source if isinstance(self.source, FleetState) else None
                self._cluster = open_cluster(self.settings, fleet)
            return self._cluster

    def new_audit_problems(self) -> list[str]:
        """Recording failures (audit line, Event) not shown yet, for a notification."""
        with self._lock:
            if self._cluster is None:
                return []
            problems = self._cluster.auditor.problems[self._reported :]
            self._reported += len(problems)
            return problems

    def waves(self) -> WaveSession:
        """The console's one wave session on the live fleet, opened on first use (it waits
        for the fleet's first complete snapshot and reads the ApplicationSet's strategy)."""
        with self._waves_lock:
            if self._waves is None:
                fleet = self.source
                if not isinstance(fleet, FleetState):
                    raise OpsError("waves need the live fleet (this console shows a fixed one)")
                conn = self.cluster().conn
                self._waves = WaveSession(
                    self.settings, conn=conn, fleet=fleet, record=self.smoke_record
                ).open()
            return self._waves

    def note_smoke(self, outcomes: Mapping[str, SmokeOutcome]) -> None:
        """Show outcomes just recorded in the fleet rows at once (a fixed fleet shows none)."""
        if isinstance(self.source, LiveFleet):
            self.source.note_smoke(outcomes)

    def close(self) -> None:
        """The console is going away: the wave session's smoke checkers are closed."""
        if self._waves is not None:
            self._waves.close()


class OccHistory:
    """Commands typed per tenant (or wave), newest last, kept in the XDG state dir.

    A convenience, so it never stops a command: an unreadable file or entry is skipped, and
    a file that cannot be written leaves `problem` set (one line) for the screen to show."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or occ_history_path()
        self.problem = ""

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(key): [e for e in items if isinstance(e, str)]
            for key, items in data.items()
            if isinstance(items, list)
        }

    def entries(self, key: str) -> list[str]:
        return self._load().get(key, [])

    def add(self, key: str, command: str) -> bool:
        """Remember `command`; False (and `problem` set) when the file cannot be written."""
        data = self._load()
        items = [e for e in data.get(key, []) if e != command] + [command]
        data[key] = items[-HISTORY_LIMIT:]
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as err:
            self.problem = (
                f"occ history not saved to {self.path} ({err.strerror or err}); "
                "the command runs anyway"
            )
            return False
        self.problem = ""
        return True
