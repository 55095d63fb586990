"""Promote one wave: gates, the Lease, then per Application (at most K at a time) request a
sync, follow it to done, run the tenant's smoke checks. A failure stops new starts unless
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

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.health import sync_busy
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.kube.appset_strategy import AppSetStrategy
from ncconsole.kube.argocd import DONE, FINAL, WAITING, SyncRefused, SyncState, request_sync
from ncconsole.kube.argocd_follow import Cancel, follow_sync
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.lease import LeaseHeld, PromotionLease, current_user, lease_holder
from ncconsole.ops.audit import AuditAction, Auditor
from ncconsole.ops.errors import OpsError
from ncconsole.ops.guard import Permission, require_access, require_writable
from ncconsole.ops.promotion.gates import check_gates
from ncconsole.ops.promotion.model import (
    FINISHED,
    Blocker,
    GateRefused,
    Phase,
    ProgressCallback,
    PromotionOptions,
    PromotionReport,
    RunSmoke,
    SmokeOutcome,
    TenantProgress,
)
from ncconsole.ops.promotion.waves import TenantWave, WaveOverview, wave_overview
from ncconsole.settings import Settings

ACTION = "wave promote"
EVENT_REASON = "NcconsolePromotion"


class WavePromotion:
    """One promotion of `options.wave`; `run()` once, `halt()`/`interrupt()` from anywhere."""

    def __init__(
        self,
        conn: KubeConnection,
        settings: Settings,
        options: PromotionOptions,
        *,
        snapshot: Callable[[], FleetSnapshot],
        strategy: AppSetStrategy | None,
        run_smoke: RunSmoke,
        smoke_results: Callable[[], dict[str, SmokeOutcome]] = dict,
        auditor: Auditor | None = None,
        on_progress: ProgressCallback | None = None,
        lease: PromotionLease | None = None,
        user: str = "",
    ) -> None:
        self.conn, self.settings, self.options = conn, settings, options
        self.snapshot, self.strategy = snapshot, strategy
        self.run_smoke, self.smoke_results = run_smoke, smoke_results
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
            self._audit("halted", reason, exit_code=None)

    def interrupt(self) -> None:
        """Follow nothing further (the syncs already requested go on in Argo CD)."""
        self._interrupted.set()
        self._cancel.set()

    # -- planning --------------------------------------------------------------------------
    def plan(self) -> WaveOverview:
        o = self.options
        self.overview = wave_overview(
            self.snapshot(), self.settings, self.strategy, self.smoke_results(),
            revision=o.revision, smoke_max_age=o.smoke_max_age,
        )  # fmt: skip
        status = self.overview.wave(o.wave)
        if status is None:
            known = ", ".join(str(w.wave) for w in self.overview.waves) or "none"
            raise OpsError(f"wave {o.wave}: no tenants in {self.settings.repo} (waves: {known})")
        self.progress = {t.tenant: TenantProgress(t.tenant, t.app) for t in status.tenants}
        return self.overview

    def _report(self, outcome: str, message: str = "", forced: list[Blocker] | None = None):
        assert self.overview is not None
        return PromotionReport(
            self.options.wave, self.overview.target_revision, self.overview.mode,
            [p.copy() for p in self.progress.values()], outcome, message, forced or [],
        )  # fmt: skip

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> PromotionReport:
        o = self.options
        if not o.dry_run:
            require_writable(self.settings, f"promote wave {o.wave}")
            require_access(
                self.conn,
                Permission("patch", "applications", self.settings.argocd_namespace, "argoproj.io"),
                *(
                    Permission(
                        verb, "leases", self.settings.argocd_namespace, "coordination.k8s.io"
                    )
                    for verb in ("create", "update")
                ),
            )
        overview = self.plan()
        status = overview.wave(o.wave)
        assert status is not None
        current = self.lease.read()
        if lease_holder(current) and not o.dry_run:  # another console is promoting: say so first
            self._refuse(self.lease.refusal(current))
        try:
            blockers, _ = check_gates(
                overview, status, self.run_smoke, concurrency=self.settings.occ.concurrency
            )
        except KeyboardInterrupt:
            self._audit("interrupted", "interrupted while checking the gates", exit_code=130)
            raise
        if o.dry_run:
            holder = lease_holder(self.lease.read())
            if holder:
                blockers.append(Blocker("", f"promotion Lease held by {holder}"))
            text = "; ".join(str(b) for b in blockers) or "all gates pass"
            outcome = "dry-run" if not blockers or o.force else "dry-run-refused"
            return self._report(outcome, text, blockers if o.force else [])
        if self._interrupted.is_set():  # stopped while the gates ran: nothing has moved
            self._audit("interrupted", "interrupted before anything moved", exit_code=130)
            self._skip_rest()
            return self._report("interrupted", "interrupted before anything moved")
        if blockers and not o.force:
            refusal = GateRefused(o.wave, blockers)
            self._audit("refused", str(refusal), exit_code=3)
            raise refusal
        try:
            self.lease.acquire()
        except LeaseHeld as err:
            self._refuse(err)
        self.lease.start_renewing()
        forced = blockers if o.force else []
        start = f"to {overview.target_revision[:12]} ({overview.mode})"
        if forced:
            start += "; FORCED past: " + "; ".join(str(b) for b in forced)
        try:
            try:
                self._audit("started", start, exit_code=None)
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
        self._audit("refused", str(refusal), exit_code=3)
        raise refusal from None

    def _execute(self, tenants: list[TenantWave]) -> None:
        queue: deque[TenantWave] = deque()
        for row in tenants:
            if row.settled:
                self._set(
                    row.tenant, Phase.DONE, f"already Synced and Healthy at {row.revision[:12]}"
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
        """One tenant; whatever goes wrong fails that tenant, never the whole promotion."""
        try:
            self._promote_one(row)
        except NcConsoleError as err:
            self._fail(row, str(err))
        except Exception as err:  # a bug or an odd answer: keep the promotion accountable
            self._fail(row, f"{type(err).__name__}: {err}")

    def _promote_one(self, row: TenantWave) -> None:
        o = self.options
        assert self.overview is not None
        target = self.overview.target_revision if o.revision else ""
        self._set(row.tenant, Phase.SYNCING, "requesting sync", start=True)
        try:
            request = request_sync(
                self.conn, self.settings.argocd_namespace, row.app, user=self.user, busy=sync_busy,
                reason=f"ncconsole: promote wave {o.wave}", revision=target,
                retry_limit=o.retry_limit,
            )  # fmt: skip
        except (SyncRefused, ApiStatusError, ApiUnreachable) as err:
            self._fail(row, f"sync not requested: {err}")
            return
        with self._lock:
            self.progress[row.tenant].synced = True

        def on_state(state: SyncState) -> None:
            if state.state in FINAL:
                return  # the phase after the follow says how it ended
            phase = Phase.WAITING if state.state == WAITING else Phase.SYNCING
            self._set(row.tenant, phase, state.message)

        result = follow_sync(
            self.conn, request, timeout=o.timeout, on_state=on_state, cancel=self._cancel
        )
        if result.cancelled:
            self._set(row.tenant, Phase.INTERRUPTED,
                      f"not followed further ({result.state.message})")  # fmt: skip
            self._audit_tenant(row, "interrupted", 130)
            return
        if result.timed_out:
            self._fail(row, f"timed out after {o.timeout:g} s: {result.state.message}")
            return
        if result.state.state != DONE:
            self._fail(row, result.state.message)
            return
        if self._interrupted.is_set():
            self._set(row.tenant, Phase.INTERRUPTED, f"{result.state.message}; smoke not run")
            self._audit_tenant(row, "interrupted", 130)
            return
        self._set(row.tenant, Phase.SMOKE, "running smoke checks")
        outcome = self.run_smoke(row.tenant)
        if not outcome.passed:
            self._fail(row, "smoke checks failed: " + ("; ".join(outcome.reasons) or "?"))
            return
        self._set(row.tenant, Phase.DONE, f"{result.state.message}; smoke checks passed")
        self._audit_tenant(row, "ok", 0)

    def _fail(self, row: TenantWave, message: str) -> None:
        self._set(row.tenant, Phase.FAILED, message)
        self._audit_tenant(row, "failed", 1)

    def _set(self, tenant: str, phase: Phase, message: str, start: bool = False) -> None:
        with self._lock:
            p = self.progress[tenant]
            p.phase, p.message = phase, message
            if start or p.started is None:
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
        result = {"promoted": "ok", "interrupted": "interrupted"}.get(outcome, "failed")
        self._audit(result, message, exit_code=report.exit_code)
        return report

    def _audit(self, result: str, message: str, *, exit_code: int | None) -> None:
        if self.auditor is None:
            return
        act = AuditAction(
            ACTION, f"wave {self.options.wave}", self.options.audit_args(), None, EVENT_REASON
        )
        act.result, act.exit_code, act.message = result, exit_code, message
        self.auditor.finish(act)

    def _audit_tenant(self, row: TenantWave, result: str, exit_code: int) -> None:
        if self.auditor is None:
            return
        p = self.progress[row.tenant]
        args = {**self.options.audit_args(), "elapsed": round(p.elapsed, 1)}
        act = AuditAction(ACTION, f"{row.namespace}/{row.app}", args, row.namespace, EVENT_REASON)
        act.result, act.exit_code, act.message = result, exit_code, p.message
        self.auditor.finish(act)
