"""The top of every screen: where we are looking (badges for the profile or context, PROD and
READ-ONLY; then context, cluster, repo), how the fleet is doing in one line, and a banner when
the data cannot be trusted (API lost, kinds forbidden)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ncconsole.fleet.model import FleetSnapshot, KindStatus
from ncconsole.render import cells as fmt
from ncconsole.render.access import access_lines
from ncconsole.render.fleet_rows import health_counts
from ncconsole.render.platform_states import platform_problem
from ncconsole.settings import Settings

# Badges are reverse video, so they stand out with NO_COLOR too; PROD in the warning colour.
BADGE = "bold reverse"


def prod_badge() -> str:
    return f"{BADGE} {fmt.WARN}" if fmt.WARN else BADGE


def data_age(snapshot: FleetSnapshot, now: datetime) -> str:
    return fmt.age(now, snapshot.last_contact or snapshot.taken_at)


def badges(settings: Settings | None, snapshot: FleetSnapshot | None) -> Text:
    """ " prod  PROD  READ-ONLY ": which cluster (the profile, else the context), whether it
    is production, whether changes are refused. Empty without settings."""
    text = Text()
    if settings is None:
        return text
    name = settings.profile or (snapshot.context if snapshot else "") or settings.context
    if name:
        text.append(f" {name} ", style=prod_badge() if settings.production else BADGE)
    if settings.production:
        text.append(" ").append(" PROD ", style=prod_badge())
    if settings.read_only:
        text.append(" ").append(" READ-ONLY ", style=BADGE)
    return text


def header_text(
    snapshot: FleetSnapshot | None,
    now: datetime,
    settings: Settings | None = None,
    note: str = "",
) -> Text:
    """Line 1: badges and where; line 2: the fleet's counts, liveness and `note` (the sort)."""
    text = Text("ncconsole", style="bold")
    marks = badges(settings, snapshot)
    if marks:
        text.append(" ").append_text(marks)
    if snapshot is None:
        return text.append(" · connecting…", style="bold")
    where = []
    if settings is None or settings.profile:  # else the first badge is the context already
        where.append(f"context {snapshot.context or '?'}")
    if snapshot.cluster:
        where.append(f"cluster {snapshot.cluster}")
    where.append(f"repo {snapshot.repo}")
    text.append("  " + " · ".join(where))
    count = len(snapshot.tenants)
    text.append(f"\n{count} tenant{'s' if count != 1 else ''}")
    if count:
        text.append(": ")
        text.append_text(health_counts(snapshot.tenants))
    if not snapshot.complete and snapshot.api_reachable:
        text.append(" · ◐ loading…", style=fmt.BUSY)
    elif snapshot.api_reachable:
        # Watches push every change: the data is as fresh as the cluster's own.
        text.append(" · ● live", style=fmt.GOOD)
    else:
        text.append(f" · data {data_age(snapshot, now)} old", style=fmt.BAD)
    problem = platform_problem(snapshot.platform_reading)
    if problem is not None:  # a shared component hurting many tenants at once
        text.append(" · ").append_text(problem)
    if note:
        text.append(f" · {note}", style="bold")
    return text


def banner_text(snapshot: FleetSnapshot | None, now: datetime) -> Text:
    """Empty when all is well; otherwise one line per problem with the data itself."""
    lines: list[Text] = []
    if snapshot is None:
        return Text()
    if not snapshot.api_reachable:
        line = Text("⚠ API unreachable — retrying", style=fmt.BAD)
        line.append(f" · data {data_age(snapshot, now)} old")
        if snapshot.api_error:
            line.append(f" · {snapshot.api_error}", style=fmt.MUTED)
        lines.append(line)
    if any(state.status is KindStatus.UNAUTHORIZED for state in snapshot.kinds.values()):
        lines.append(
            Text(
                "⚠ credentials rejected (401 Unauthorized): the token expired or was revoked"
                " — renew the kubeconfig's credentials and restart ncconsole",
                fmt.BAD,
            )
        )
    for line in access_lines(snapshot):  # per-namespace reading, forbidden kinds/namespaces
        symbol = "◑" if line.startswith("read per namespace") else "⊘"
        lines.append(Text(f"{symbol} {line}", fmt.WARN))
    errors = sorted(
        kind for kind, state in snapshot.kinds.items() if state.status is KindStatus.ERROR
    )
    if errors and snapshot.api_reachable:
        lines.append(Text(f"⚠ errors watching: {', '.join(errors)} — retrying", fmt.WARN))
    for problem in snapshot.repo_problems[:3]:
        lines.append(Text(f"⚑ repo: {problem}", fmt.WARN))
    return Text("\n").join(lines)


class FleetHeader(Static):
    DEFAULT_CSS = """
    FleetHeader {
        height: 2; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    _shown: Text | None = None

    def show(self, snapshot: FleetSnapshot | None, now: datetime, note: str = "") -> None:
        # Only when the text changed, and without a layout pass (the height is fixed): an
        # update lays out and repaints the whole screen, table included (benchmarks/).
        text = header_text(snapshot, now, getattr(self.app, "settings", None), note)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)


class Banner(Static):
    """Hidden while there is nothing to say."""

    DEFAULT_CSS = """
    Banner { height: auto; padding: 0 1; display: none; background: $error 15%; }
    Banner.-visible { display: block; }
    """

    _shown: Text | None = None

    def show(self, snapshot: FleetSnapshot | None, now: datetime) -> None:
        text = banner_text(snapshot, now)
        if text != self._shown:  # an update lays out the whole screen again
            self._shown = text
            self.set_class(bool(text.plain), "-visible")
            self.update(text)
