"""Promote one wave: `plan()` shows what would happen, `run(plan)` checks the gates
(gates.py), takes the Lease, then per Application (at most K at a time) syncs, follows and
smoke-checks it (tenant_sync.py). A failure stops new starts unless
`continue_on_error`; `halt()` does the same on request; `interrupt()` (or Ctrl-C in the
thread running `run`) follows nothing further. Progress goes to a callback; every step is
audited. Nothing here prints.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.kube import revisions
from ncconsole.kube.appset_strategy import AppSetStrategy
from ncconsole.kube.argocd_follow import Cancel
from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.lease import LeaseHeld, PromotionLease, current_user, lease_holder
from ncconsole.ops.audit import Auditor, audited
from ncconsole.ops.errors import OpsError
from ncconsole.ops.promotion.gates import check_gates, lease_blockers, preflight, wave_overview
from ncconsole.ops.promotion.model import (
    FINISHED,
    Blocker,
    GateRefused,
    Phase,
    ProgressCallback,
    PromotionOptions,
    PromotionReport,
    RunSmoke,
    TenantProgress,
)
from ncconsole.ops.promotion.tenant_sync import AUDIT_RESULT, SyncTarget, sync_and_verify
from ncconsole.ops.promotion.waves import TenantWave, WaveOverview, WaveStatus
from ncconsole.settings import Settings

ACTION = "wave promote"
EVENT_REASON = "NcconsolePromotion"


@dataclass(frozen=True)
class PromotionPlan:
    """What `run` will do, for the user to confirm: the wave, its tenants and the target."""

    overview: WaveOverview
    status: WaveStatus  # the wave to promote, with its blockers as of planning

    @property
    def target_revision(self) -> str:
        return self.overview.target_revision

    @property
    def mode(self) -> str:
        return self.overview.mode

    def tenants(self) -> list[str]:
        return [t.tenant for t in self.status.tenants]


class WavePromotion:
    """One promotion of `options.wave`: `plan()`, then `run(plan)` once;
    `halt()`/`interrupt()` from anywhere."""

    def __init__(
        self,
        conn: KubeConnection,
        settings: Settings,
        options: PromotionOptions,
        *,
        snapshot: Callable[[], FleetSnapshot],
        strategy: AppSetStrategy | None,
        run_smoke: RunSmoke,
        auditor: Auditor | None = None,
        on_progress: ProgressCallback | None = None,
        lease: PromotionLease | None = None,
        user: str = "",
    ) -> None:
        self.conn, self.settings, self.options = conn, settings, options
        self.snapshot, self.strategy = snapshot, strategy
        self.run_smoke = run_smoke
        self.auditor, self.on_progress = auditor, on_progress
        self.lease = lease or PromotionLease(
            conn, settings.argocd_namespace, purpose=f"wave {options.wave}"
        )
        self.user = user or current_user()
        self.overview: WaveOverview | None = None
        self.progress: dict[str, TenantProgress] = {}
        self._lock = threading.Lock()
        self._cancel = Cancel()
        self._halted = threading.Event()
        self._interrupted = threading.Event()
        self._stop_reason = ""
        self._queue: deque[TenantWave] = deque()
        self._running: dict[Future, TenantWave] = {}

    # -- control from other threads --------------------------------------------------------
    @property
    def halted(self) -> bool:
        return self._halted.is_set()

    def halt(self, reason: str = "halted by the user") -> None:
        """Finish the running tenants, start no more."""
        if not self._halted.is_set():
            self._halted.set()
            self._note("halted", reason, exit_code=None)

    def interrupt(self) -> None:
        """Follow nothing further (the syncs already requested go on in Argo CD)."""
        self._interrupted.set()
        self._cancel.set()

    # -- planning --------------------------------------------------------------------------
    def plan(self, revision: str | None = None) -> PromotionPlan:
        """The wave as it stands now: its tenants, the target revision and the gates' verdict
        (nothing is run). `revision` pins the target (run() re-plans at the confirmed one)."""
        o = self.options
        self.overview = wave_overview(
            self.snapshot(),
            self.settings,
            self.strategy,
            revision=o.revision if revision is None else revision,
            smoke_max_age=o.smoke_max_age,
        )
        status = self.overview.wave(o.wave)
        if status is None:
            known = ", ".join(str(w.wave) for w in self.overview.waves) or "none"
            raise OpsError(f"wave {o.wave}: no tenants in {self.settings.repo} (waves: {known})")
        self.progress = {t.tenant: TenantProgress(t.tenant, t.app) for t in status.tenants}
        return PromotionPlan(self.overview, status)

    def _report(self, outcome: str, message: str = "", forced: list[Blocker] | None = None):
        assert self.overview is not None
        return PromotionReport(
            self.options.wave, self.overview.target_revision, self.overview.mode,
            [p.copy() for p in self.progress.values()], outcome, message, forced or [],
        )  # fmt: skip

    # -- the run ---------------------------------------------------------------------------
    def run(self, plan: PromotionPlan | None = None) -> PromotionReport:
        """Promote the wave. With a `plan` (shown to and confirmed by the user) its target
        revision is kept and the gates are judged again on the fleet as it is now."""
        o = self.options
        if not o.dry_run:
            preflight(self.conn, self.settings, f"promote wave {o.wave}")
            if self.auditor is not None:  # an unaudited promotion is not started
                self.auditor.require_writable(f"promote wave {o.wave}")
        plan = self.plan(None if plan is None or o.revision else plan.target_revision)
        overview, status = plan.overview, plan.status
        if not o.dry_run:  # another console is promoting: say so first
            current = self.lease.read()
            if lease_holder(current):
                self._refuse(self.lease.refusal(current))
        try:
            blockers, _ = check_gates(
                overview, status, self.run_smoke, concurrency=self.settings.occ.concurrency
            )
        except KeyboardInterrupt:
            self._note("interrupted", "interrupted while checking the gates", exit_code=130)
            raise
        if o.dry_run:
            blockers += lease_blockers(self.lease)
            text = "; ".join(str(b) for b in blockers) or "all gates pass"
            outcome = "dry-run" if not blockers or o.force else "dry-run-refused"
            return self._report(outcome, text, blockers if o.force else [])
        if self._interrupted.is_set():  # stopped while the gates ran: nothing has moved
            self._note("interrupted", "interrupted before anything moved", exit_code=130)
            self._skip_rest()
            return self._report("interrupted", "interrupted before anything moved")
        if blockers and not o.force:
            refusal = GateRefused(o.wave, blockers)
            self._note("refused", str(refusal), exit_code=3)
            raise refusal
        try:
            self.lease.acquire()
        except LeaseHeld as err:
            self._refuse(err)
        self.lease.start_renewing()
        forced = blockers if o.force else []
        start = f"to {revisions.short(overview.target_revision)} ({overview.mode})"
        if forced:
            start += "; FORCED past: " + "; ".join(str(b) for b in forced)
        try:
            try:
                self._note("started", start, exit_code=None)
                self._execute(list(status.tenants))
            except KeyboardInterrupt:  # Ctrl-C outside the loop's own handling
                self.interrupt()
                self._drain()
        finally:
            self.lease.release()
        report = self._finish(forced)
        return report

    def _refuse(self, held: LeaseHeld) -> None:
        """Refuse (exit 3) naming who holds the Lease."""
        refusal = GateRefused(self.options.wave, [Blocker("", str(held))])
        self._note("refused", str(refusal), exit_code=3)
        raise refusal from None

    def _execute(self, tenants: list[TenantWave]) -> None:
        queue: deque[TenantWave] = deque()
        for row in tenants:
            if row.settled:
                self._set(
                    row.tenant,
                    Phase.DONE,
                    f"already Synced and Healthy at {revisions.short(row.revision)}",
                )
            else:
                queue.append(row)
        self._running = {}
        self._queue = queue
        with ThreadPoolExecutor(max(1, self.options.concurrency), "promote") as pool:
            while queue or self._running:
                try:
                    if not self._step(pool, queue):
                        break
                except KeyboardInterrupt:  # Ctrl-C: follow nothing further, then drain
                    self.interrupt()
        self._skip_rest()

    def _step(self, pool: ThreadPoolExecutor, queue: deque[TenantWave]) -> bool:
        """Start what may start, collect what finished; False when nothing is running."""
        limit = max(1, self.options.concurrency)
        while queue and len(self._running) < limit and not self._stopping():
            row = queue.popleft()
            self._running[pool.submit(self._promote_guarded, row)] = row
        if not self._running:
            return False
        done, _ = wait(list(self._running), timeout=0.2, return_when=FIRST_COMPLETED)
        for future in done:
            row = self._running.pop(future)
            future.result()
            failed = self.progress[row.tenant].phase == Phase.FAILED
            if failed and not self.options.continue_on_error and not self._stop_reason:
                self._stop_reason = f"{row.tenant} failed"
        return True

    def _drain(self) -> None:
        """After an interrupt: let the running followers notice and return, skip the rest."""
        running = list(self._running)
        wait(running, timeout=10)
        self._skip_rest()

    def _skip_rest(self) -> None:
        why = self._why_stopped()
        self._queue.clear()
        for tenant, progress in list(self.progress.items()):
            if progress.phase == Phase.QUEUED:
                self._set(tenant, Phase.SKIPPED, f"not started: {why}")

    def _stopping(self) -> bool:
        return bool(
            self._halted.is_set()
            or self._interrupted.is_set()
            or self.lease.lost.is_set()
            or self._stop_reason
        )

    def _why_stopped(self) -> str:
        if self._interrupted.is_set():
            return "interrupted"
        if self.lease.lost.is_set():
            return self.lease.lost_reason
        if self._stop_reason:
            return self._stop_reason
        return "halted" if self._halted.is_set() else "stopped"

    # -- one tenant ------------------------------------------------------------------------
    def _promote_guarded(self, row: TenantWave) -> None:
        """One tenant, audited from start to end; whatever goes wrong fails that tenant,
        never the whole promotion."""
        args = self.options.audit_args()
        target = f"{row.namespace}/{row.app}"
        # Checked once before the wave started; a line lost after that is a warning.
        with audited(
            self.auditor, ACTION, target, args, namespace=row.namespace, reason=EVENT_REASON,
            mutating=False,
        ) as act:  # fmt: skip
            try:
                phase, message = self._promote_one(row)
            except NcConsoleError as err:  # SyncRefused (busy, changed), the API failing, ...
                requested = self.progress[row.tenant].synced
                phase, message = (
                    Phase.FAILED,
                    str(err) if requested else f"sync not requested: {err}",
                )
            except Exception as err:  # a bug or an odd answer: keep the promotion accountable
                phase, message = Phase.FAILED, f"{type(err).__name__}: {err}"
            self._set(row.tenant, phase, message)
            act.args["elapsed"] = round(self.progress[row.tenant].elapsed, 1)
            act.result, act.exit_code = AUDIT_RESULT[phase]
            act.message = message

    def _promote_one(self, row: TenantWave) -> tuple[Phase, str]:
        o = self.options
        assert self.overview is not None

        def requested() -> None:
            with self._lock:
                self.progress[row.tenant].synced = True

        return sync_and_verify(
            self.conn,
            SyncTarget(
                self.settings.argocd_namespace,
                row.app,
                row.tenant,
                revision=self.overview.target_revision if o.revision else "",
                reason=f"ncconsole: promote wave {o.wave}",
                retry_limit=o.retry_limit,
                force=o.force,
            ),
            user=self.user,
            run_smoke=self.run_smoke,
            timeout=o.timeout,
            on_phase=lambda phase, message: self._set(row.tenant, phase, message),
            on_requested=requested,
            cancel=self._cancel,
            interrupted=self._interrupted.is_set,
        )

    def _set(self, tenant: str, phase: Phase, message: str) -> None:
        with self._lock:
            p = self.progress[tenant]
            if phase == p.phase and message == p.message:
                return  # the final phase, said again by the caller of sync_and_verify
            p.phase, p.message = phase, message
            if p.started is None:
                p.started = time.monotonic()
            if phase in FINISHED:
                p.finished = time.monotonic()
            copy = p.copy()
        if self.on_progress is not None:
            self.on_progress(copy)

    # -- the end ---------------------------------------------------------------------------
    def _finish(self, forced: list[Blocker]) -> PromotionReport:
        failed = [p.tenant for p in self.progress.values() if p.phase == Phase.FAILED]
        if self._interrupted.is_set():
            outcome, message = "interrupted", "interrupted: nothing new started, Lease released"
        elif failed:
            outcome, message = "failed", f"failed: {', '.join(failed)}"
        elif self.lease.lost.is_set():
            outcome, message = "failed", self.lease.lost_reason
        elif any(p.phase == Phase.SKIPPED for p in self.progress.values()):
            outcome, message = "halted", "halted before every tenant was promoted"
        else:
            n = len(self.progress)
            outcome, message = "promoted", f"{n} tenant{'s' if n != 1 else ''} promoted"
        report = self._report(outcome, message, forced)
        # A halt is the user's choice, audited as such; only a failure is "failed".
        result = {"promoted": "ok", "interrupted": "interrupted", "halted": "halted"}.get(
            outcome, "failed"
        )
        self._note(result, message, exit_code=report.exit_code)
        return report

    def _note(self, result: str, message: str, *, exit_code: int | None) -> None:
        """One line about the whole wave: started, halted, refused, interrupted, the end."""
        target = f"wave {self.options.wave}"
        with audited(
            self.auditor, ACTION, target, self.options.audit_args(), reason=EVENT_REASON,
            mutating=False,
        ) as act:  # fmt: skip
            act.result, act.exit_code, act.message = result, exit_code, message
