"""The audit trail: one JSON line per action in $XDG_STATE_HOME/ncconsole/audit.jsonl, plus a
Kubernetes Event in the tenant namespace so colleagues see it in `kubectl get events`.

Each line is appended with a single write() on an O_APPEND descriptor, so concurrent consoles
never interleave half lines.

The rule when the trail cannot be written (state directory read-only or a file, disk full):
a state-changing action checks that it can audit BEFORE it changes anything, and is refused
(AuditUnavailable) if not; a failure after the change (of the line or of the Event) does not
undo the action nor turn it into an error: it is one line in `Auditor.problems` for the
caller to show as a warning. Readers skip lines they cannot use and count them.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection, context_user
from ncconsole.kube.events import record_event
from ncconsole.locations import audit_log_path
from ncconsole.masking import MASK, SECRET_NAME
from ncconsole.ops.errors import Refused
from ncconsole.settings import Settings

# Less free space than this on the state directory's file system refuses changes up front.
MIN_FREE_BYTES = 16 * 1024


class AuditUnavailable(Refused):
    """The audit log cannot be written, so a state-changing action is not started."""


def mask(args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` with the value of every secret-looking key replaced by ********."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, Mapping):
            out[key] = mask(value)
        elif SECRET_NAME.search(key) and value not in (None, "", False):
            out[key] = MASK
        else:
            out[key] = value
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


@dataclass
class AuditAction:
    """One action in progress; the body of `Auditor.action` fills in the outcome."""

    action: str
    target: str
    args: dict[str, Any]
    namespace: str | None
    reason: str
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    result: str = "ok"
    exit_code: int | None = 0
    message: str = ""
    # Why the Kubernetes Event could not be recorded ("" when it was, or none was wanted).
    event_problem: str = ""
    # Why the audit line could not be written ("" when it was).
    line_problem: str = ""

    @property
    def problem(self) -> str:
        """What went wrong recording this action, as one line ("" when nothing did)."""
        return "; ".join(p for p in (self.line_problem, self.event_problem) if p)


class Auditor:
    """Appends audit lines and records Events. `conn` may be None (no Events then)."""

    def __init__(
        self, settings: Settings, conn: KubeConnection | None, path: Path | None = None
    ) -> None:
        self.settings = settings
        self.conn = conn
        self.path = path or audit_log_path()
        self._who: dict[str, str] | None = None
        # Every recording failure of this auditor, once each, for the caller to warn about.
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def _note(self, problem: str) -> None:
        with self._lock:
            if problem and problem not in self.problems:
                self.problems.append(problem)

    def unwritable(self) -> str:
        """Why an audit line could not be appended now ("" when it could)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
            fs = os.statvfs(self.path.parent)
        except OSError as err:
            return err.strerror or str(err)
        if fs.f_bavail * fs.f_frsize < MIN_FREE_BYTES:
            return "no space left on the device"
        return ""

    def require_writable(self, what: str) -> None:
        """Refuse `what` before it changes anything when its audit line could not be
        written: an unaudited change is worse than no change."""
        problem = self.unwritable()
        if problem:
            raise AuditUnavailable(
                f"not starting to {what}: the audit log {self.path} cannot be written "
                f"({problem}); nothing was changed. Make {self.path.parent} writable "
                "(or point XDG_STATE_HOME elsewhere) or free disk space, then retry"
            )

    def who(self) -> dict[str, str]:
        if self._who is None:
            try:
                os_user = getpass.getuser()
            except (KeyError, OSError):
                os_user = str(os.getuid())
            cluster_user = context_user(self.settings, self.conn.context) if self.conn else ""
            self._who = {"os_user": os_user, "cluster_user": cluster_user}
        return self._who

    def write_line(self, entry: Mapping[str, Any]) -> None:
        """Append one JSON line atomically (a single write on an O_APPEND descriptor)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def finish(self, act: AuditAction) -> AuditAction:
        """Write the line and (for actions with a namespace) the Event. Never raises for a
        recording failure: the action's result stands and `act.problem` says what failed."""
        end = datetime.now(UTC)
        entry = {
            "who": self.who(),
            "context": self.conn.context if self.conn else "",
            "action": act.action,
            "target": act.target,
            "args": mask(act.args),
            "result": act.result,
            "exit_code": act.exit_code,
            "message": act.message,
            "start": _iso(act.start),
            "end": _iso(end),
        }
        try:
            self.write_line(entry)
        except OSError as err:
            act.line_problem = (
                f"audit line for {act.action} {act.target} not written to {self.path} "
                f"({err.strerror or err})"
            )
            self._note(act.line_problem)
        # Nothing happened in the cluster for a dry run or a refusal (read-only mode must not
        # write at all): no Event then.
        if act.namespace and self.conn is not None and act.result not in ("dry-run", "refused"):
            act.event_problem = self.event(act)
            self._note(act.event_problem)
        return act

    def event(self, act: AuditAction) -> str:
        who = self.who()
        user = who["cluster_user"] or who["os_user"]
        text = f"{act.action} {act.target} by {who['os_user']} ({user}): {act.result}"
        if act.exit_code not in (0, None):
            text += f" (exit {act.exit_code})"
        if act.message:
            text += f" - {act.message}"
        try:
            record_event(
                self.conn,  # type: ignore[arg-type]
                act.namespace or "",
                reason=act.reason,
                message=text,
                warning=act.result not in ("ok", "dry-run"),
            )
        except ApiStatusError as err:
            return f"audit Event not recorded in {act.namespace}: HTTP {err.status} {err.reason}"
        except ApiUnreachable as err:
            return f"audit Event not recorded in {act.namespace}: {err}"
        return ""

    @contextlib.contextmanager
    def action(
        self,
        action: str,
        target: str,
        args: Mapping[str, Any] | None = None,
        *,
        namespace: str | None = None,
        reason: str = "NcconsoleAction",
        mutating: bool = True,
    ) -> Iterator[AuditAction]:
        """Audit the body: result "ok" unless it raises ("failed", "refused", "interrupted").
        A `mutating` body does not run when its line could not be written (AuditUnavailable)."""
        if mutating:
            self.require_writable(f"{action} {target}")
        act = AuditAction(action, target, dict(args or {}), namespace, reason)
        try:
            yield act
        except KeyboardInterrupt:
            act.result, act.exit_code, act.message = "interrupted", 130, "interrupted by the user"
            self.finish(act)
            raise
        except NcConsoleError as err:
            act.result = getattr(err, "audit_result", "failed")
            act.exit_code, act.message = err.exit_code, str(err)
            self.finish(act)
            raise
        except Exception as err:
            act.result, act.exit_code, act.message = "failed", 1, f"{type(err).__name__}: {err}"
            self.finish(act)
            raise
        self.finish(act)


@contextlib.contextmanager
def audited(
    auditor: Auditor | None,
    action: str,
    target: str,
    args: Mapping[str, Any] | None = None,
    *,
    namespace: str | None = None,
    reason: str = "NcconsoleAction",
    mutating: bool = True,
) -> Iterator[AuditAction]:
    """`auditor.action(...)`, or the same record kept nowhere when there is no auditor (a
    library caller, a test): callers write one code path either way."""
    if auditor is None:
        yield AuditAction(action, target, dict(args or {}), namespace, reason)
        return
    with auditor.action(
        action, target, args, namespace=namespace, reason=reason, mutating=mutating
    ) as act:
        yield act


@dataclass
class AuditTrail:
    """The usable audit lines (oldest first) and how many lines were skipped as unusable."""

    entries: list[dict[str, Any]]
    skipped: int = 0
    path: Path | None = None

    def problem(self) -> str:
        """One line about skipped lines ("" when none were)."""
        if not self.skipped:
            return ""
        lines = "line" if self.skipped == 1 else "lines"
        return f"{self.skipped} unreadable {lines} in {self.path} skipped"


def _started(entry: Any) -> datetime | None:
    """When a line's action started, or None when the line is not a usable audit line."""
    if not isinstance(entry, dict) or not isinstance(entry.get("who", {}), dict):
        return None
    if not isinstance(entry.get("args", {}), dict):
        return None
    try:
        started = datetime.fromisoformat(str(entry.get("start")))
    except ValueError:
        return None
    # Lines are written in UTC with a zone; one without could not be placed in time.
    return started if started.tzinfo is not None else None


def load_audit(path: Path | None = None, since: timedelta | None = None) -> AuditTrail:
    """The audit lines that started within `since` (all if None). A line that is not JSON,
    not an object, or lacks a zoned start time is skipped and counted, never fatal; a missing
    file is an empty trail."""
    path = path or audit_log_path()
    cutoff = datetime.now(UTC) - since if since is not None else None
    trail = AuditTrail([], 0, path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return trail
    except OSError as err:
        raise NcConsoleError(f"{path}: cannot read the audit log ({err.strerror})") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        started = _started(entry)
        if started is None:
            trail.skipped += 1
        elif cutoff is None or started >= cutoff:
            trail.entries.append(entry)
    return trail


def read_audit(path: Path | None = None, since: timedelta | None = None) -> list[dict[str, Any]]:
    """The usable audit lines (oldest first), those that started within `since` if given."""
    return load_audit(path, since).entries
