"""One tenant's "sync, follow, smoke": request a sync of its Application, follow it by watch
to Argo CD's "done" rules, then run its smoke checks. A promotion does this for every tenant of
a wave, a rollback for one tenant at an older revision; both call `sync_and_verify`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ncconsole.fleet.health import autosync_undoes, sync_busy
from ncconsole.kube.argocd import DONE, FINAL, WAITING, SyncState, request_sync
from ncconsole.kube.argocd_follow import Cancel, follow_sync
from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.views import AppView
from ncconsole.ops.promotion.model import Phase, RunSmoke

# on_phase(phase, message): each step as it happens, and the final one.
PhaseCallback = Callable[[Phase, str], None]
# A tenant's final phase as its audit line's (result, exit code).
AUDIT_RESULT = {
    Phase.DONE: ("ok", 0),
    Phase.FAILED: ("failed", 1),
    Phase.INTERRUPTED: ("interrupted", 130),
}


@dataclass(frozen=True)
class SyncTarget:
    """What to sync and how to call it done."""

    namespace: str  # Argo CD's
    app: str
    tenant: str
    revision: str  # a revision key (kube/revisions.py); "" = the Application's own target
    reason: str  # shown in Argo CD as the operation's Reason
    retry_limit: int = 2
    # A rollback's sources, from the history entry (as argocd-server's Rollback sends them).
    sources: tuple[dict, ...] = ()
    # Sync even where auto-sync will sync the Application straight back (the user said so).
    force: bool = False
    # Off for a rollback: Argo CD still compares with Git's HEAD, so the Application stays
    # OutOfSync; done is then our operation Succeeded, reconciled and Healthy.
    require_synced: bool = True
    done_text: str = ""  # the DONE message before "; smoke checks passed" ("" = Argo CD's)
    prune: bool = False  # delete resources Git no longer has (Argo CD's sync --prune)


def sync_and_verify(
    conn: KubeConnection,
    target: SyncTarget,
    *,
    user: str,
    run_smoke: RunSmoke,
    timeout: float,
    on_phase: PhaseCallback,
    on_requested: Callable[[], None] = lambda: None,
    cancel: Cancel | None = None,
    interrupted: Callable[[], bool] = lambda: False,
) -> tuple[Phase, str]:
    """The tenant's final phase (DONE, FAILED or INTERRUPTED) and message, also given to
    `on_phase`. The sync request's own refusals (SyncRefused: busy or changed, API errors)
    are raised for the caller to word; `interrupted()` true after the follow skips the smoke
    checks."""
    on_phase(Phase.SYNCING, "requesting sync")

    def refusal(app: AppView) -> str:
        why = "" if target.force else autosync_undoes(app, target.revision)
        return f"{why}; --force syncs anyway" if why else ""

    request = request_sync(
        conn,
        target.namespace,
        target.app,
        user=user,
        reason=target.reason,
        busy=sync_busy,
        refuse=refusal,
        revision=target.revision,
        retry_limit=target.retry_limit,
        prune=target.prune,
        sources=list(target.sources) or None,
    )
    on_requested()

    def on_state(state: SyncState) -> None:
        if state.state in FINAL:
            return  # the phase after the follow says how it ended
        on_phase(Phase.WAITING if state.state == WAITING else Phase.SYNCING, state.message)

    result = follow_sync(
        conn,
        request,
        timeout=timeout,
        on_state=on_state,
        cancel=cancel,
        require_synced=target.require_synced,
    )
    if result.cancelled:
        return _end(on_phase, Phase.INTERRUPTED, f"not followed further ({result.state.message})")
    if result.timed_out:
        return _end(
            on_phase, Phase.FAILED, f"timed out after {timeout:g} s: {result.state.message}"
        )
    if result.state.state != DONE:
        return _end(on_phase, Phase.FAILED, result.state.message)
    if interrupted():
        return _end(on_phase, Phase.INTERRUPTED, f"{result.state.message}; smoke not run")
    on_phase(Phase.SMOKE, "running smoke checks")
    outcome = run_smoke(target.tenant)
    if not outcome.passed:
        reasons = "; ".join(outcome.reasons) or "?"
        return _end(on_phase, Phase.FAILED, f"smoke checks failed: {reasons}")
    done = target.done_text or result.state.message
    return _end(on_phase, Phase.DONE, f"{done}; smoke checks passed")


def _end(on_phase: PhaseCallback, phase: Phase, message: str) -> tuple[Phase, str]:
    on_phase(phase, message)
    return phase, message
