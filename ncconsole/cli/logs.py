"""`ncconsole logs TENANT`: the tenant's Nextcloud pod logs, every pod interleaved by time
with the pod in front like `kubectl logs -l ... --prefix` (or `--follow` them).

Exit codes: 0 logs shown, 1 no pod gave logs, 2 bad input or refused, 130 interrupted.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import click

from ncconsole.cli.options import (
    TENANT,
    CountParam,
    DurationParam,
    common_options,
    format_option,
    sigterm_interrupts,
    warn,
    with_settings,
)
from ncconsole.durations import DurationRange
from ncconsole.ops.logs import (
    LogLine,
    LogOptions,
    TenantLogFollower,
    no_pods,
    read_tenant_logs,
    tenant_pods,
)
from ncconsole.ops.session import open_cluster
from ncconsole.settings import Settings

SINCE = DurationRange(1, 3650 * 86400)


@click.command("logs")
@click.argument("tenant", type=TENANT)
@click.option("-p", "--previous", is_flag=True, help="The previous (crashed) run of the container.")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming; new pods are picked up.")
@click.option("-c", "--container", default="nextcloud", show_default=True)
@click.option("--pod", "pods", multiple=True, help="Only this pod (repeatable).")
@click.option(
    "--tail", type=CountParam(-1, 10_000_000), default=None,
    help="Last N lines per pod; -1 for all (default: setting logs.tail_lines).",
)  # fmt: skip
@click.option("--since", type=DurationParam(SINCE), default=None,
              help="Only lines newer than DURATION (e.g. 10m, 2h).")  # fmt: skip
@click.option("--timestamps", is_flag=True, help="Show each line's time.")
@click.option("--no-prefix", is_flag=True, help="Do not put [pod/NAME/CONTAINER] in front.")
@format_option("text", "json")
@common_options
@with_settings
def logs_command(
    settings: Settings, tenant: str, previous: bool, follow: bool, container: str,
    pods: tuple[str, ...], tail: int | None, since: float | None, timestamps: bool,
    no_prefix: bool, output_format: str,
) -> int:  # fmt: skip
    """Show TENANT's Nextcloud logs: every pod, interleaved by time, like `kubectl logs -l`."""
    tail_lines = settings.logs.tail_lines if tail is None else (None if tail < 0 else tail)
    options = LogOptions(
        container=container, previous=previous, tail_lines=tail_lines,
        since=timedelta(seconds=since) if since else None, pods=pods,
    )  # fmt: skip

    def show(line: LogLine) -> None:
        if output_format == "json":
            click.echo(json.dumps(line.as_dict()))
        else:
            click.echo(line.render(prefix=not no_prefix, timestamps=timestamps))

    conn = open_cluster(settings).conn
    if not follow or previous:  # a previous run has ended: there is nothing to follow
        logs = read_tenant_logs(conn, settings, tenant, options)
        for pod, why in logs.problems.items():
            warn(f"{pod}: {why}")
        for line in logs.lines:
            show(line)
        return 0
    if not tenant_pods(conn, settings, tenant):
        raise no_pods(conn, settings, tenant)
    printing = threading.Lock()

    def show_locked(line: LogLine) -> None:
        with printing:
            show(line)

    def status(text: str) -> None:
        with printing:
            warn(text)

    follower = TenantLogFollower(conn, settings, tenant, options, show_locked, status)
    with sigterm_interrupts():
        follower.start()
        try:
            threading.Event().wait()
        finally:
            follower.stop()
    return 0


COMMANDS = [logs_command]
