"""`ncconsole restart|delete-pod|sync|terminate|refresh TENANT`: fixing one tenant from the
command line, with the console's rules - refused in read-only mode, an access review first,
a confirmation (a terminal asks; `--yes` otherwise), audited, and followed to the end.

Exit codes: 0 done, 1 it failed (rollout failed, smoke checks failed, timed out), 2 bad input
or refused, 3 sync refused by the wave order (use --force), 130 interrupted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import click

from ncconsole.cli.options import (
    TENANT,
    DurationParam,
    common_options,
    confirmer,
    format_option,
    sigterm_interrupts,
    warn,
    with_settings,
)
from ncconsole.cli.progress import PlainProgress
from ncconsole.durations import DurationRange
from ncconsole.kube.rollout import RolloutState
from ncconsole.ops.history import tenant_diff
from ncconsole.ops.promotion import Phase
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.ops.promotion.tenant_sync_command import plan_sync, run_sync
from ncconsole.ops.session import open_cluster
from ncconsole.ops.tenant_actions import (
    ActionResult,
    preflight,
    refresh,
    remove_pod,
    restart,
    running_operation,
    terminate,
)
from ncconsole.settings import Settings

FOLLOW_TIMEOUT = DurationRange(1, 86400)


def _progress(tenant: str) -> Callable[[RolloutState], None]:
    def show(state: RolloutState) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {tenant}: {state.message}", err=True)

    return show


def _report(tenant: str, result: ActionResult, output_format: str) -> int:
    if output_format == "json":
        click.echo(json.dumps({"tenant": tenant, "outcome": result.outcome,
                               "message": result.message}, indent=2))  # fmt: skip
    else:
        click.echo(f"{tenant}: {result.outcome} - {result.message}")
    return result.exit_code


def _confirm(yes: bool, question: str) -> bool:
    return confirmer(yes)(question)


@click.command("restart")
@click.argument("tenant", type=TENANT)
@click.option("--timeout", type=DurationParam(FOLLOW_TIMEOUT), default="10m", show_default=True,
              help="How long to follow the rollout.")  # fmt: skip
@click.option("--no-wait", is_flag=True, help="Request the restart and return.")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@format_option("text", "json")
@common_options
@with_settings
def restart_command(
    settings: Settings, tenant: str, timeout: float, no_wait: bool, yes: bool, output_format: str
) -> int:
    """Rollout restart of TENANT's Nextcloud Deployment (new ReplicaSet, every pod replaced),
    followed until the new pods are Ready or the rollout fails."""
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    preflight(conn, settings, "restart", tenant)
    namespace = settings.namespace_for(tenant)
    confirmed = _confirm(yes, f"Restart every Nextcloud pod of {tenant} ({namespace})?")
    cancel = threading.Event()
    with sigterm_interrupts():
        try:
            result = restart(
                conn, settings, tenant, confirmed=confirmed, auditor=auditor, timeout=timeout,
                follow_up=not no_wait, on_state=_progress(tenant), cancel=cancel,
            )  # fmt: skip
        except KeyboardInterrupt:
            cancel.set()
            raise
    return _report(tenant, result, output_format)


@click.command("delete-pod")
@click.argument("tenant", type=TENANT)
@click.argument("pod")
@click.option("--timeout", type=DurationParam(FOLLOW_TIMEOUT), default="5m", show_default=True,
              help="How long to follow the replacement.")  # fmt: skip
@click.option("--no-wait", is_flag=True, help="Delete and return.")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@format_option("text", "json")
@common_options
@with_settings
def delete_pod_command(
    settings: Settings, tenant: str, pod: str, timeout: float, no_wait: bool, yes: bool,
    output_format: str,
) -> int:  # fmt: skip
    """Delete POD of TENANT (k9s ctrl-k); its ReplicaSet replaces it, followed until the
    replacement is Ready or broken."""
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    preflight(conn, settings, "delete-pod", tenant)
    confirmed = _confirm(yes, f"Delete pod {pod} of {tenant}? Its ReplicaSet replaces it.")
    with sigterm_interrupts():
        result = remove_pod(
            conn, settings, tenant, pod, confirmed=confirmed, auditor=auditor, timeout=timeout,
            follow_up=not no_wait, on_state=_progress(tenant),
        )  # fmt: skip
    return _report(tenant, result, output_format)


@click.command("terminate")
@click.argument("tenant", type=TENANT)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@format_option("text", "json")
@common_options
@with_settings
def terminate_command(settings: Settings, tenant: str, yes: bool, output_format: str) -> int:
    """Stop TENANT's running Argo CD operation (like `argocd app terminate-op`): its phase
    goes Terminating and Argo CD ends it Failed."""
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    preflight(conn, settings, "terminate", tenant)
    running = running_operation(conn, settings, tenant)
    confirmed = _confirm(yes, f"Terminate the running operation of {tenant} ({running})?")
    result = terminate(conn, settings, tenant, confirmed=confirmed, auditor=auditor)
    return _report(tenant, result, output_format)


@click.command("refresh")
@click.argument("tenant", type=TENANT)
@click.option("--normal", is_flag=True, help="A normal refresh (default: hard, no cache).")
@format_option("text", "json")
@common_options
@with_settings
def refresh_command(settings: Settings, tenant: str, normal: bool, output_format: str) -> int:
    """Make Argo CD compare TENANT's Application with Git now (hard: regenerate manifests)."""
    session = open_cluster(settings)
    conn, auditor = session.conn, session.auditor
    # A refresh changes nothing deployed: no question, but audited and refused read-only.
    result = refresh(conn, settings, tenant, confirmed=True, hard=not normal, auditor=auditor)
    return _report(tenant, result, output_format)


@click.command("sync")
@click.argument("tenant", type=TENANT)
@click.option("--revision", default="", help="Sync to this values commit (or prefix), "
              "chart version or CHART@COMMIT (a pin; default: the Application's own "
              "target).")  # fmt: skip
@click.option("--prune", is_flag=True, help="Also delete resources Git no longer has.")
@click.option("--dry-run", is_flag=True, help="Plan and check only; request nothing.")
@click.option("--force", is_flag=True, help="Sync even when an earlier wave is behind or "
              "auto-sync would undo a pinned revision.")  # fmt: skip
@click.option("--timeout", type=DurationParam(FOLLOW_TIMEOUT), default="10m", show_default=True,
              help="From sync to Healthy.")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask first.")
@format_option("text", "json")
@common_options
@with_settings
def sync_command(
    settings: Settings, tenant: str, revision: str, prune: bool, dry_run: bool, force: bool,
    timeout: float, yes: bool, output_format: str,
) -> int:  # fmt: skip
    """Sync TENANT's Application (onboarding a new tenant, re-syncing a drifted one) with the
    promotion's request and follow rules, then its smoke checks. Refused (exit 3) when an
    earlier wave does not run the target yet, unless --force."""
    with sigterm_interrupts(), WaveSession(settings).open() as session:
        conn = session.conn
        assert conn is not None
        plan = plan_sync(conn, settings, tenant, revision, prune)
        diff = tenant_diff(conn, settings, tenant, revision=plan.revision)
        if plan.busy:
            warn(f"{plan.app}: {plan.busy}")
        if plan.behind:
            warn(f"waves ahead of {tenant} are behind: {'; '.join(plan.behind)}")
        if dry_run:
            if output_format == "json":
                record = {**plan.as_dict(), "diff": diff.summary(), "dry_run": True}
                click.echo(json.dumps(record, indent=2, ensure_ascii=False))
            else:
                click.echo(f"{plan.describe()}\n  changes: {diff.summary()}\n  dry run: nothing "
                           "requested")  # fmt: skip
            preflight(conn, settings, "sync", tenant)
            if plan.behind and not force:
                return 3
            return 0
        preflight(conn, settings, "sync", tenant)
        # Behind without --force: run_sync refuses before it would need an answer.
        question = f"{plan.describe()}\n  changes: {diff.summary()}\nSync?"
        confirmed = bool(plan.behind and not force) or _confirm(yes, question)
        smoke = session.smoke(ignore=("argocd",) if revision else ())
        result = run_sync(
            conn, settings, plan, confirmed=confirmed, force=force, run_smoke=smoke,
            auditor=session.auditor, timeout=timeout,
            on_progress=PlainProgress() if output_format == "text" else None,
        )  # fmt: skip
    if output_format == "json":
        click.echo(json.dumps({**result.as_dict(), "plan": plan.as_dict(),
                               "diff": diff.summary()}, indent=2))  # fmt: skip
    else:
        click.echo(f"{tenant}: {result.phase} - {result.message}")
    return {Phase.DONE: 0, Phase.INTERRUPTED: 130}.get(result.phase, 1)


COMMANDS = [
    restart_command, delete_pod_command, sync_command, terminate_command, refresh_command,
]  # fmt: skip
