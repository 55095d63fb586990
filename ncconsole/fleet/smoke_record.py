"""The last smoke result per tenant, in $XDG_STATE_HOME/ncconsole/smoke-results.json.

Every smoke run writes it (`ncconsole smoke`, the console's smoke screen, the promotion
engine); FleetState joins it into each TenantState (`smoke`), where the promotion gates
("passed recently"), the console's SMOKE column and `ncconsole status` read it. Writes
replace the file atomically (temp file + rename) under a lock file, so a reader never sees a
half-written file and two processes do not lose each other's results. An unreadable file is
treated as empty and described in `problem` (one line) for the caller to show; the next save
replaces it.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ncconsole.locations import smoke_record_path


@dataclass(frozen=True)
class SmokeOutcome:
    """A tenant's smoke checks, reduced to what the gates and the fleet row need."""

    passed: bool
    reasons: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    revision: str = ""  # the Application's revision when checked
    status: str = ""  # worst counted check: pass | warn | fail ("" = from `passed`)
    # The API server checked against: a result from another cluster (same tenant names,
    # e.g. accept and prod, or an earlier demo) must never count, nor show, here.
    cluster: str = ""

    @property
    def result(self) -> str:
        return self.status or ("pass" if self.passed else "fail")

    def fresh(self, revision: str, max_age: timedelta, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.revision == revision and now - self.checked_at <= max_age

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "status": self.result,
            "reasons": list(self.reasons),
            "checked_at": self.checked_at.isoformat(),
            "revision": self.revision,
            "cluster": self.cluster,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmokeOutcome:
        status = str(data.get("status") or "")
        checked_at = datetime.fromisoformat(str(data["checked_at"]))
        if checked_at.tzinfo is None:  # written zoned; one without cannot be aged
            raise ValueError("checked_at without a time zone")
        reasons = data.get("reasons") or ()
        if not isinstance(reasons, list | tuple):
            raise ValueError("reasons is not a list")
        return cls(
            bool(data.get("passed")),
            tuple(str(r) for r in reasons),
            checked_at,
            str(data.get("revision") or ""),
            status if status in ("pass", "warn", "fail") else "",
            str(data.get("cluster") or ""),
        )


def for_cluster(outcomes: Mapping[str, SmokeOutcome], cluster: str) -> dict[str, SmokeOutcome]:
    """The outcomes recorded against `cluster` (the API server URL) only."""
    return {tenant: o for tenant, o in outcomes.items() if o.cluster == cluster}


class SmokeRecord:
    """tenant -> latest SmokeOutcome, read from and written to a small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or smoke_record_path()
        self.problem = ""  # why the file could not be read at the last load, or ""
        self._lock = threading.Lock()

    def load(self) -> dict[str, SmokeOutcome]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            self.problem = ""
            return {}
        except (OSError, ValueError) as err:
            reason = err.strerror if isinstance(err, OSError) else str(err).split("\n")[0]
            self.problem = (
                f"smoke record {self.path} is unreadable ({reason}); last smoke results are "
                "unknown until the next smoke run replaces it"
            )
            return {}
        self.problem = ""
        out = {}
        skipped = 0
        for tenant, item in data.items():
            try:
                out[str(tenant)] = SmokeOutcome.from_dict(item)
            except (KeyError, TypeError, ValueError, AttributeError):
                skipped += 1  # one bad entry costs that tenant's result, not everyone's
        if skipped:
            self.problem = (
                f"smoke record {self.path}: {skipped} unreadable "
                f"entr{'y' if skipped == 1 else 'ies'} skipped; those tenants' last smoke "
                "results are unknown until their next smoke run"
            )
        return out

    def save(self, tenant: str, outcome: SmokeOutcome) -> None:
        self.save_many({tenant: outcome})

    def save_many(self, outcomes: Mapping[str, SmokeOutcome]) -> None:
        """Add or replace these tenants' outcomes. A record that cannot be written (state
        dir read-only, disk full) does not undo the checks: `problem` says so instead."""
        if not outcomes:
            return
        try:
            self._write(outcomes)
        except OSError as err:
            self.problem = (
                f"cannot write smoke record {self.path} ({err.strerror or err}); "
                "these results are not kept for the promotion gates"
            )

    def _write(self, outcomes: Mapping[str, SmokeOutcome]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, open(self.path.with_name(".smoke-results.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # other processes (CLI, console) write it too
            data = {t: o.as_dict() for t, o in self.load().items()}
            data.update({t: o.as_dict() for t, o in outcomes.items()})
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".smoke-results-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def signature(self) -> tuple[int, int] | None:
        """The file's (mtime, size), or None when missing: cheap change detection."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size


class SmokeResults:
    """A reader's cached view of the record: `current()` costs a stat at most every
    `recheck` seconds and a read only when the file changed; `put` shows a result this
    process just recorded without waiting for the next check. Each change gives a new dict,
    so callers may compare by identity."""

    def __init__(self, record: SmokeRecord | None = None, recheck: float = 5.0) -> None:
        self.record = record or SmokeRecord()
        self.recheck = recheck
        self._results: dict[str, SmokeOutcome] = {}
        self._signature: tuple[int, int] | None = None
        self._checked = float("-inf")

    @property
    def problem(self) -> str:
        return self.record.problem

    def current(self) -> dict[str, SmokeOutcome]:
        now = time.monotonic()
        if now - self._checked >= self.recheck:
            self._checked = now
            signature = self.record.signature()
            if signature != self._signature:
                self._signature = signature
                self._results = self.record.load()
        return self._results

    def put(self, outcomes: Mapping[str, SmokeOutcome]) -> None:
        self._results = {**self._results, **outcomes}

    def reload(self) -> None:
        """Read the file at the next `current()` (e.g. after a run here finished writing)."""
        self._checked = float("-inf")
