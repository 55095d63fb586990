"""`ncconsole wave list|promote` and `ncconsole rollback`: canary-first rollouts with gates.

Exit codes: 0 all promoted (or nothing to do), 1 a tenant failed or the promotion was halted,
2 bad input or refused (read-only, not confirmed), 3 a gate refused (with --dry-run: a real
run would be refused), 130 interrupted.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ncconsole.cli.options import (
    TENANT,
    WAVE,
    CountParam,
    DurationParam,
    common_options,
    format_option,
    interactive,
    report_audit_problems,
    sigterm_interrupts,
    warn,
    with_settings,
)
from ncconsole.cli.progress import PHASE_STYLE, PlainProgress, RichProgress
from ncconsole.cli.tables import print_table
from ncconsole.durations import DurationRange
from ncconsole.gitops.revisions import revision_problem
from ncconsole.ops.errors import ConfirmationRequired, Refused
from ncconsole.ops.history import change_summary
from ncconsole.ops.promotion import (
    GateRefused,
    Phase,
    PromotionOptions,
    PromotionReport,
    WaveOverview,
    WaveStatus,
    plan_rollback,
    run_rollback,
)
from ncconsole.ops.promotion.session import WaveSession
from ncconsole.ops.promotion.versions import promotion_change
from ncconsole.render.cells import revision_words
from ncconsole.settings import CONCURRENCY, Settings

LISTED_BLOCKERS = 10  # per wave in `wave list`; `wave promote` names every one
# From sync to Healthy, per tenant.
SYNC_TIMEOUT = DurationRange(1, 86400)


def _check_revision(session: WaveSession, settings: Settings, revision: str) -> None:
    """Refuse a --revision neither the repository nor any Application knows, before the
    cluster is asked to sync to it."""
    snapshot = session.fleet.snapshot if session.fleet is not None else None
    apps = [t.app for t in snapshot.tenants if t.app] if snapshot is not None else []
    known = [r for app in apps for r in (app.sync_revision, app.target_revision)]
    problem = revision_problem(settings.repo, revision, known)
    if problem:
        raise Refused(problem)


# -- wave list --------------------------------------------------------------------------------


@click.group("wave")
def wave_group() -> None:
    """List the rollout waves and promote them, canary (wave 0) first."""


def _overview_json(overview: WaveOverview) -> dict[str, Any]:
    return {
        "mode": overview.mode,
        "applicationset": overview.appset,
        "target_revision": overview.target_revision,
        # one per Application source (chart version, values commit); shown as "6.6.9@1f0c2ab"
        "target_revisions": overview.target_revision.split(",") if overview.target_revision else [],
        "target": revision_words(overview.target_revision),
        "unmatched_applications": list(overview.unmatched),
        "steps": list(overview.steps),
        "waves": [
            {
                "wave": w.wave,
                "step": w.step,
                "promotable": w.promotable,
                "settled": w.settled,
                "blockers": [str(b) for b in w.blockers],
                "counts": {
                    "tenants": len(w.tenants),
                    "at_target": w.count("at_target"),
                    "synced": w.count("synced"),
                    "healthy": w.count("healthy"),
                    "maintenance": sum(1 for t in w.tenants if t.state == "maintenance"),
                    "smoke_passed": w.smoke_passed,
                },
                "tenants": [
                    {
                        "tenant": t.tenant,
                        "application": t.app,
                        "revision": t.revision,
                        "deployed_revision": t.deployed or None,
                        "at_target": t.at_target,
                        "sync": t.sync,
                        "health": t.health,
                        "busy": t.busy or None,
                        "comparison_error": t.comparison_error or None,
                        "smoke": None
                        if t.smoke is None
                        else {**t.smoke.as_dict(), "fresh": t.smoke_fresh},
                        "step": t.step,
                        "step_status": t.step_status or None,
                    }
                    for t in w.tenants
                ],
            }
            for w in overview.waves
        ],
    }


def _deployed(w: WaveStatus) -> str:
    """The revisions the wave's tenants last synced to, as chart@commit with counts."""
    counts = Counter(revision_words(t.deployed) for t in w.tenants if t.deployed)
    if not counts:
        return "-"
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{key} ({n})" for key, n in counts.most_common())


def _overview_table(overview: WaveOverview) -> Table:
    table = Table(box=None, header_style="bold")
    columns = ["WAVE", "TENANTS", "DEPLOYED", "AT TARGET", "SYNCED", "HEALTHY", "SMOKE"]
    if overview.mode == "rolling_sync":
        columns.append("STEP")
    for column in [*columns, "PROMOTE"]:
        width = {"TENANTS": 48, "DEPLOYED": 40}.get(column)
        table.add_column(column, no_wrap=True, max_width=width)
    for w in overview.waves:
        n = len(w.tenants)
        names = ", ".join(t.tenant for t in w.tenants[:3]) + (", ..." if n > 3 else "")
        if w.settled:
            verdict = Text("done (all at the target)", style="green")
        elif w.promotable:
            verdict = Text("yes", style="green")
        else:
            count = len(w.blockers)
            verdict = Text(f"no ({count} blocker{'s' if count != 1 else ''}, below)", style="red")
        row = [
            Text(str(w.wave)), Text(f"{n}: {names}", overflow="ellipsis"),
            Text(_deployed(w), overflow="ellipsis"), Text(f"{w.count('at_target')}/{n}"),
            Text(f"{w.count('synced')}/{n}"), Text(w.health_summary()),
            Text(f"{w.smoke_passed}/{n}"),
        ]  # fmt: skip
        if overview.mode == "rolling_sync":
            row.append(Text("-" if w.step is None else str(w.step)))
        table.add_row(*row, verdict)
    return table


def _target_words(key: str) -> str:
    """ " (chart 6.6.9, values commit 1f0c2ab)" for a chart + values key, else ""."""
    chart, _, commit = revision_words(key).partition("@")
    if not commit or "@" in commit:
        return ""
    return f" (chart {chart}, values commit {commit})"


@wave_group.command("list")
@click.option("--revision", default="", help="Target revision (default: what Argo CD compares).")
@format_option("table", "json", "tsv")
@common_options
@with_settings
def wave_list(settings: Settings, revision: str, output_format: str) -> int:
    """Each wave: tenants at the target revision, Synced, Healthy, smoke-checked, and whether
    it may be promoted (and if not, why)."""
    with WaveSession(settings).open() as session:
        _check_revision(session, settings, revision)
        overview = session.overview(revision)
    warn(session.smoke_problem)
    if output_format == "json":
        click.echo(json.dumps(_overview_json(overview), indent=2))
        return 0
    if output_format == "tsv":
        print_table(_overview_table(overview), "tsv")
        return 0
    mode = "RollingSync" if overview.mode == "rolling_sync" else "manual (the console syncs)"
    click.echo(
        f"ApplicationSet {overview.appset}: {mode}; "
        f"target revision {revision_words(overview.target_revision)}"
        f"{_target_words(overview.target_revision)}"
    )
    print_table(_overview_table(overview))
    for w in overview.waves:
        if w.blockers and not w.settled:
            click.echo(f"wave {w.wave} may not be promoted:")
            for blocker in w.blockers[:LISTED_BLOCKERS]:
                click.echo(f"  - {blocker}")
            if len(w.blockers) > LISTED_BLOCKERS:
                more = len(w.blockers) - LISTED_BLOCKERS
                click.echo(f"  ... and {more} more (--format json lists them all)")
    if overview.mode == "rolling_sync" and overview.steps:
        click.echo("RollingSync steps: " + "; ".join(overview.steps))
    if overview.unmatched:
        click.echo(
            "matched by no RollingSync step (step -1, never synced): "
            + ", ".join(overview.unmatched)
        )
    return 0


# -- wave promote -----------------------------------------------------------------------------


def _report_text(report: PromotionReport) -> None:
    table = Table(box=None, header_style="bold")
    for column in ("TENANT", "RESULT", "ELAPSED", "MESSAGE"):
        table.add_column(column, no_wrap=column != "MESSAGE")
    for t in report.tenants:
        style = PHASE_STYLE.get(t.phase, "")
        table.add_row(
            Text(t.tenant), Text(str(t.phase), style=style), Text(f"{t.elapsed:.1f}s"),
            Text(t.message),
        )  # fmt: skip
    print_table(table)
    click.echo(
        f"wave {report.wave} ({report.mode}) to {revision_words(report.revision)}: {report.message}"
    )
    if report.forced_past:
        click.echo("FORCED past: " + "; ".join(str(b) for b in report.forced_past))


def _refusal(err: GateRefused, output_format: str) -> int:
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "wave": err.wave,
                    "outcome": "refused",
                    "exit_code": 3,
                    "blockers": [{"tenant": b.tenant, "reason": b.reason} for b in err.blockers],
                },
                indent=2,
            )
        )
    click.echo(f"ncconsole: wave {err.wave} may not be promoted:", err=True)
    for blocker in err.blockers:
        click.echo(f"  - {blocker}", err=True)
    return 3


def _confirm_force(wave: int) -> None:
    """--force needs the wave number (or "force") typed; no terminal, no force."""
    try:
        typed = click.prompt(
            f"--force skips the gates of wave {wave}. Type {wave} (or 'force') to go on",
            default="", show_default=False, err=True,
        )  # fmt: skip
    except click.exceptions.Abort:
        typed = ""
    if typed.strip() not in (str(wave), "force"):
        raise ConfirmationRequired(f"--force not confirmed: type {wave} or 'force' when asked")


@wave_group.command("promote")
@click.argument("wave", type=WAVE)
@click.option("--revision", default="", help="Revision to sync to (default: the fleet's target).")
@click.option("--concurrency", type=CountParam(*CONCURRENCY), default=4, show_default=True,
              help="Applications synced at a time.")  # fmt: skip
@click.option("--timeout", type=DurationParam(SYNC_TIMEOUT), default="10m", show_default=True,
              help="Per tenant, from sync to Healthy (e.g. 90s, 10m).")  # fmt: skip
@click.option("--continue-on-error", is_flag=True, help="Keep starting tenants after a failure.")
@click.option("--dry-run", is_flag=True, help="Check the gates and show the plan; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before promoting.")
@click.option("--force", is_flag=True, help="Skip the gates (asks you to type the wave number).")
@format_option("text", "json")
@common_options
@with_settings
def wave_promote(
    settings: Settings,
    wave: int,
    revision: str,
    concurrency: int,
    timeout: float,
    continue_on_error: bool,
    dry_run: bool,
    yes: bool,
    force: bool,
    output_format: str,
) -> int:
    """Sync every Application of WAVE (K at a time) after the gates pass, follow each to
    Synced and Healthy, then run its smoke checks. Ctrl-C starts nothing new and releases
    the promotion Lease."""
    options = PromotionOptions(
        wave=wave, revision=revision, concurrency=concurrency, timeout=timeout,
        continue_on_error=continue_on_error, dry_run=dry_run, force=force,
    )  # fmt: skip
    if force and not dry_run:
        _confirm_force(wave)
    with sigterm_interrupts(), WaveSession(settings).open() as session:
        report_audit_problems(session.auditor)
        _check_revision(session, settings, revision)
        promotion = session.promotion(options)
        plan = promotion.plan()
        warn(session.smoke_problem)
        names = plan.tenants()
        # A wave the gates will refuse anyway is refused without asking first.
        if not dry_run and not yes and (force or not plan.status.blockers):
            change = promotion_change(
                settings,
                session.fleet.snapshot if session.fleet else None,
                plan.status,
                plan.target_revision,
            )
            assert session.conn is not None
            changes = change_summary(
                session.conn, settings, names[0], revision=plan.target_revision
            ) if names else ""  # fmt: skip
            question = (
                f"Promote wave {wave} ({len(names)} tenants: {', '.join(names[:6])}"
                f"{' ...' if len(names) > 6 else ''}): {change}?"
                + (f"\n  changes for {names[0]}: {changes}" if changes else "")
            )
            if not (interactive() and click.confirm(question, default=False, err=True)):
                raise ConfirmationRequired(f"promotion of wave {wave} not confirmed; pass --yes")
        rich = output_format == "text" and Console(stderr=True).is_terminal
        display = RichProgress(names) if rich else PlainProgress()
        promotion.on_progress = display
        try:
            if isinstance(display, RichProgress):
                with display.progress:
                    report = promotion.run(plan)
            else:
                report = promotion.run(plan)
        except GateRefused as err:
            return _refusal(err, output_format)
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _report_text(report)
    return report.exit_code


# -- rollback ---------------------------------------------------------------------------------


@click.command("rollback")
@click.argument("tenant", type=TENANT)
@click.option("--to", "to_id", type=CountParam(0, 2**31 - 1), default=None,
              help="History id to go back to (default: the one before the current).")  # fmt: skip
@click.option("--timeout", type=DurationParam(SYNC_TIMEOUT), default="10m", show_default=True,
              help="From sync to Healthy (e.g. 90s, 10m).")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask before rolling back.")
@click.option("--force", is_flag=True, help="Roll back even with auto-sync on (it undoes it).")
@format_option("text", "json")
@common_options
@with_settings
def rollback_command(
    settings: Settings, tenant: str, to_id: int | None, timeout: float, yes: bool,
    force: bool, output_format: str,
) -> int:  # fmt: skip
    """Sync TENANT's Application to an earlier revision from its history, then follow it
    and run its smoke checks like a promotion."""
    with sigterm_interrupts(), WaveSession(settings).open() as session:
        report_audit_problems(session.auditor)
        assert session.conn is not None
        plan = plan_rollback(session.conn, settings, tenant, to_id)
        if plan.autosync and not force:  # refused before asking: the answer would not matter
            raise Refused(f"{plan.autosync}; roll back anyway with --force")
        changes = change_summary(session.conn, settings, tenant, history_id=plan.target_id)
        confirmed = yes or (
            interactive()
            and click.confirm(
                f"{plan.describe()}\n  changes: {changes}\nRoll back?", default=False, err=True
            )
        )
        display = PlainProgress()
        result = run_rollback(
            session.conn, settings, plan, run_smoke=session.smoke(ignore=("argocd",)),
            confirmed=confirmed, auditor=session.auditor, timeout=timeout,
            on_progress=display if output_format == "text" else None, force=force,
        )  # fmt: skip
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    **result.as_dict(),
                    "from": _history_json(plan.current_id, plan.current_revision),
                    "to": _history_json(plan.target_id, plan.target_revision),
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{tenant}: {result.phase} - {result.message}")
    return {Phase.DONE: 0, Phase.INTERRUPTED: 130}.get(result.phase, 1)


def _history_json(entry_id: int, key: str) -> dict[str, Any]:
    return {
        "id": entry_id,
        "revision": key,
        "revisions": key.split(",") if key else [],
        "shown": revision_words(key),
    }


COMMANDS = [wave_group, rollback_command]
