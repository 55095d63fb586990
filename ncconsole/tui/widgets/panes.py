"""The tenant detail panes: pods, Argo CD, S3, Nextcloud, events, alerts, shared platform.
Each renders one part of a TenantState as a Rich renderable; `Pane` is the bordered box that
shows it."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ncconsole.fleet.health import deployed_revision
from ncconsole.fleet.model import TenantState
from ncconsole.render import cells as fmt
from ncconsole.render.platform_states import tenant_alerts_view, tenant_platform_view


class Pane(Static):
    DEFAULT_CSS = """
    Pane { border: round $primary 60%; padding: 0 1; height: auto; }
    """

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = title


# Argo CD conditions can run to megabytes (a ComparisonError quoting whole manifests); laying
# that out on every refresh would freeze the screen.
CONDITIONS_SHOWN = 5
CONDITION_CHARS = 300


def _cut(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    cut = line if len(line) <= CONDITION_CHARS else line[: CONDITION_CHARS - 1] + "…"
    return cut + (" …" if cut != message.strip() and not cut.endswith("…") else "")


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


def _table(*headers: str, stretch: tuple[str, ...]) -> Table:
    """A borderless table; the `stretch` columns share the room left and are cut short first."""
    table = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    for header in headers:
        if header in stretch:
            table.add_column(header, no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
        else:
            table.add_column(header, no_wrap=True)
    return table


def _short(revision: str) -> str:
    """Chart version and short commit ("6.6.9@1f0c2ab"), or "–" when unknown."""
    return fmt.revision_words(revision) if revision else "–"


def pods_view(tenant: TenantState, now: datetime, selected: str | None = None) -> RenderableType:
    """The pods table; `selected` (a pod name) is shown in reverse, the pod the keys act on."""
    if not tenant.pods:
        return Text("no pods", style=fmt.MUTED)
    table = _table("NAME", "STATUS", "READY", "RST", "AGE", "NODE", "IMAGE", stretch=("IMAGE",))
    table.columns[0].ratio, table.columns[0].min_width = 2, 16
    # Never cut: two pods differ only at the end of their names. A narrow pane folds the
    # name onto a second line instead.
    table.columns[0].no_wrap, table.columns[0].overflow = False, "fold"
    for pod in tenant.pods:
        # Like k9s: the phase, or why the pod is not running normally.
        status = "Terminating" if pod.deleting else (pod.reason or pod.phase)
        healthy = pod.ready and not pod.reason
        table.add_row(
            Text(pod.name, style="reverse" if pod.name == selected else ""),
            Text(status, style="" if healthy else fmt.BAD),
            fmt.labelled("✔", "yes", fmt.GOOD) if pod.ready else fmt.labelled("✖", "no", fmt.BAD),
            fmt.restarts_text(pod.restarts),
            Text(fmt.age(now, pod.created)),
            Text(pod.node),
            Text(pod.image.rsplit("/", 1)[-1]),
        )
    return table


def argo_view(tenant: TenantState, now: datetime) -> RenderableType:
    app = tenant.app
    if app is None:
        return Text(f"✖ no Application {tenant.app_name}", style=fmt.BAD)
    grid = _grid()
    grid.add_row("application", Text(f"{app.namespace}/{app.name}"))
    sync = fmt.sync_text(app.sync_status)
    sync.append(f" · runs {_short(deployed_revision(app))} · Git {_short(app.sync_revision)}")
    grid.add_row("sync", sync)
    if app.automated:
        grid.add_row("auto-sync", Text("on: a rollback or pinned sync is undone", fmt.WARN))
    health = Text(app.health_status)
    if app.health_message:
        health.append(f" · {app.health_message}", style=fmt.MUTED)
    grid.add_row("health", health)
    if app.operation_requested or app.operation_phase:
        operation = Text(app.operation_phase or "requested")
        if app.operation_message:
            operation.append(f" · {app.operation_message}")
        if app.operation_finished:
            operation.append(f" · finished {fmt.age(now, app.operation_finished)} ago", fmt.MUTED)
        elif app.operation_started:
            operation.append(f" · started {fmt.age(now, app.operation_started)} ago", fmt.MUTED)
        grid.add_row("operation", operation)
    failed = [r for r in app.operation_resources if r[1] not in ("Synced", "PruneSkipped")]
    for name, status, message in failed[:CONDITIONS_SHOWN]:
        grid.add_row("resource", Text(f"✖ {name} {status}: {_cut(message)}", style=fmt.BAD))
    if app.operation_resources and not failed:
        count = len(app.operation_resources)
        names = ", ".join(r[0] for r in app.operation_resources[:3])
        grid.add_row("resources", Text(f"✔ {count} synced ({names})", style=fmt.MUTED))
    for kind, message in app.conditions[:CONDITIONS_SHOWN]:
        grid.add_row("condition", Text(f"⚠ {kind}: {_cut(message)}", style=fmt.WARN))
    if len(app.conditions) > CONDITIONS_SHOWN:
        more = len(app.conditions) - CONDITIONS_SHOWN
        grid.add_row("", Text(f"… {more} more (kubectl get application -o yaml)", fmt.MUTED))
    for entry in sorted(app.history, key=lambda entry: entry.id, reverse=True)[:3]:
        when = fmt.age(now, entry.deployed_at)
        grid.add_row(
            f"sync #{entry.id}",
            Text(f"{_short(entry.revision)} {when} ago by {entry.initiated_by or '?'}"),
        )
    return grid


def s3_view(tenant: TenantState, now: datetime) -> RenderableType:
    grid = _grid()
    grid.add_row("bucket", Text(tenant.bucket))
    probe = tenant.s3
    if probe is None:
        grid.add_row("state", Text("… not probed yet", style=fmt.MUTED))
        return grid
    grid.add_row("state", fmt.s3_text(probe))
    if probe.error:
        grid.add_row("error", Text(probe.error, style=fmt.BAD))
    objects = "n/a" if probe.object_count is None else f"{probe.object_count:,}"
    grid.add_row("objects", Text(objects))
    grid.add_row("used", Text(fmt.human_bytes(probe.bytes_used)))
    if probe.quota_max_size is not None or probe.quota_max_objects is not None:
        size = probe.quota_max_size
        grid.add_row("quota", Text("unlimited" if size in (None, -1) else fmt.human_bytes(size)))
    grid.add_row(
        "checked", Text(f"{fmt.age(now, probe.checked_at)} ago · {probe.latency_ms:.0f} ms")
    )
    return grid


def nextcloud_view(tenant: TenantState, now: datetime) -> RenderableType:
    grid = _grid()
    grid.add_row("host", Text(tenant.hostname))
    web = tenant.web
    if web is None:
        grid.add_row("status.php", Text("… not probed yet", style=fmt.MUTED))
        return grid
    status = (
        fmt.labelled("✔", f"HTTP {web.http_status}", fmt.GOOD)
        if web.ok
        else fmt.labelled("✖", web.error or f"HTTP {web.http_status}", fmt.BAD)
    )
    grid.add_row("status.php", status)
    if web.http_status == 200:  # other answers carry no trustworthy status fields
        grid.add_row("version", Text(web.version or "?"))
        grid.add_row("installed", Text(_yes_no(web.installed)))
        grid.add_row("maintenance", fmt.maintenance_text(web))
        grid.add_row(
            "db upgrade",
            Text("⚠ needed" if web.needs_db_upgrade else _yes_no(web.needs_db_upgrade)),
        )
    grid.add_row("checked", Text(f"{fmt.age(now, web.checked_at)} ago · {web.latency_ms:.0f} ms"))
    return grid


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def events_view(tenant: TenantState, now: datetime) -> RenderableType:
    if not tenant.events:
        return Text("no recent events", style=fmt.MUTED)
    table = _table(
        "LAST", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE", stretch=("OBJECT", "MESSAGE")
    )
    newest = sorted(tenant.events, key=lambda e: e.last_seen or now, reverse=True)[:10]
    for event in newest:
        style = fmt.WARN if event.type == "Warning" else ""
        table.add_row(
            Text(fmt.age(now, event.last_seen)),
            Text(event.type, style),
            Text(event.reason),
            Text(f"{event.involved_kind.lower()}/{event.involved_name}"),
            Text(str(event.count)),
            Text(event.message),
        )
    return table


def alerts_view(tenant: TenantState, now: datetime) -> RenderableType:
    """Its alerts in Alertmanager (name, severity, state, since, summary) and its silences."""
    return tenant_alerts_view(tenant.platform, now)


def platform_view(tenant: TenantState, now: datetime) -> RenderableType:
    """Its PgBouncer pools and its TLS certificates."""
    return tenant_platform_view(tenant.platform, now)


def summary_view(tenant: TenantState) -> RenderableType:
    text = Text(tenant.name, style="bold")
    text.append("  ")
    text.append_text(fmt.health_text(tenant.health))
    if tenant.reason:
        text.append(f" · {tenant.reason}")
    wave = "no wave" if tenant.wave is None else f"wave {tenant.wave}"
    text.append(f"\n{wave} · {tenant.environment} · namespace {tenant.namespace}", fmt.MUTED)
    if tenant.drift:
        return Group(text, Text(f"⚑ {', '.join(tenant.drift)}", style=fmt.WARN))
    return text
