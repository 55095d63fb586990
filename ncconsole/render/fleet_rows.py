"""The fleet table, computed from a snapshot: wave lines and tenant lines, in order, with the
same columns, words and symbols for the console and `ncconsole status`.

Pure functions, so the console's table widget only diffs what they return. Row keys are
stable: "wave:<n>" (or "wave:none") and "tenant:<name>". `wave_groups` and `fitted_cells` give
the same content to a one-shot printer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from ncconsole.fleet.health import data_checked_at, deployed_revision
from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.render import cells as fmt
from ncconsole.render.platform_states import alerts_cell


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int


# Widths include one trailing space: the table has no cell padding so that wave lines can
# run across columns (see `_spread`).
COLUMNS: tuple[Column, ...] = (
    Column("tenant", "TENANT", 30),
    Column("health", "HEALTH", 14),
    Column("alerts", "ALERTS", 11),
    Column("sync", "SYNC", 14),
    Column("smoke", "SMOKE", 12),
    Column("pods", "PODS", 6),
    Column("restarts", "RST", 5),
    Column("version", "VERSION", 9),
    Column("maint", "MAINT", 7),
    Column("s3", "S3", 14),
    Column("env", "ENV", 8),
    Column("age", "AGE", 6),
    Column("drift", "DRIFT", 28),
)

# `ncconsole status` has no detail screen to open, so its table adds the health reason.
REASON = Column("reason", "REASON", 0)

WAVE_PREFIX = "wave:"
TENANT_PREFIX = "tenant:"


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[Text, ...]


def wave_key(wave: int | None) -> str:
    return f"{WAVE_PREFIX}{'none' if wave is None else wave}"


def tenant_key(name: str) -> str:
    return f"{TENANT_PREFIX}{name}"


def tenant_of(row_key: str) -> str | None:
    return row_key[len(TENANT_PREFIX) :] if row_key.startswith(TENANT_PREFIX) else None


def wave_title(wave: int | None) -> str:
    if wave is None:
        return "no wave"
    return f"wave {wave} (canary)" if wave == 0 else f"wave {wave}"


def health_counts(tenants: Iterable[TenantState]) -> Text:
    """ "11 healthy · 1 degraded", worst state first."""
    counts = Counter(tenant.health for tenant in tenants)
    text = Text()
    for health in Health:
        if counts[health]:
            if text:
                text.append(" · ")
            text.append(f"{counts[health]} {health.value}", fmt.health_style(health))
    return text


def wave_summary(wave: int | None, tenants: list[TenantState]) -> Text:
    noun = "tenant" if len(tenants) == 1 else "tenants"
    text = Text(f"▼ {wave_title(wave)}", style="bold")
    text.append(f" · {len(tenants)} {noun} · ")
    text.append_text(health_counts(tenants))
    # A rollout in progress shows as Applications out of sync with the repo.
    behind = sum(1 for t in tenants if t.app is not None and t.app.sync_status == "OutOfSync")
    if behind:
        text.append(f" · ↻ {behind} out of sync", style=fmt.WARN)
    return text


def tenant_matches(tenant: TenantState, query: str) -> bool:
    """The `/` filter: a case-insensitive part of the name, or a state word (health, sync,
    S3, maintenance, drift, "smoke fail", "alert" or an alert's name, "pgbouncer")."""
    query = query.strip().lower()
    if not query:
        return True
    words = [tenant.name, tenant.health.value, tenant.environment]
    if tenant.app is not None:
        words.append(tenant.app.sync_status)
    if tenant.s3 is not None:
        words.append(f"s3 {tenant.s3.state}")
    if tenant.web is not None and tenant.web.maintenance:
        words.append("maintenance")
    words.extend(tenant.drift)
    if tenant.smoke is not None:
        words.append(f"smoke {tenant.smoke.result}")
    words.extend(f"alert {alert.name}" for alert in tenant.platform.firing)
    words.extend(tenant.platform.problems)  # "waiting for a PgBouncer connection", ...
    return any(query in word.lower() for word in words)


def tenant_cells(tenant: TenantState, now: datetime) -> tuple[Text, ...]:
    name = fmt.cell(tenant.name, "bold" if tenant.health is not Health.HEALTHY else "")
    return (
        name,
        fmt.health_text(tenant.health),
        alerts_cell(tenant.platform),
        fmt.sync_text(tenant.app.sync_status if tenant.app else None),
        fmt.smoke_text(tenant.smoke, now, deployed_revision(tenant.app)),
        fmt.pods_text(tenant),
        fmt.restarts_text(sum(pod.restarts for pod in tenant.pods)),
        fmt.version_text(tenant.web),
        fmt.maintenance_text(tenant.web),
        fmt.s3_text(tenant.s3),
        fmt.cell(tenant.environment),
        fmt.cell(fmt.age(now, data_checked_at(tenant)), fmt.MUTED),
        fmt.drift_text(tenant.drift),
    )


def reason_text(tenant: TenantState) -> Text:
    return fmt.cell(tenant.reason)


def fitted_cells(tenant: TenantState, now: datetime) -> tuple[Text, ...]:
    """The tenant's cells, each cut to its column's width."""
    return _fit(tenant_cells(tenant, now))


def _fit(cells: tuple[Text, ...]) -> tuple[Text, ...]:
    """Cut each cell one short of its column, keeping the space that separates columns."""
    for text, column in zip(cells, COLUMNS, strict=True):
        if text.cell_len >= column.width:
            text.truncate(column.width - 1, overflow="ellipsis")
    return cells


def _spread(text: Text) -> tuple[Text, ...]:
    """Cut one line into per-column pieces so it reads as a single line across the table."""
    offsets = []
    position = 0
    for column in COLUMNS[:-1]:
        position += column.width
        offsets.append(position)
    padded = text.copy()
    padded.pad_right(max(0, position - len(padded)))
    pieces = padded.divide(offsets)
    return tuple(
        Text(piece.plain, spans=piece.spans, no_wrap=True, overflow="crop", end="")
        for piece in pieces
    )


class RowCache:
    """Tenant cells kept from one build to the next. FleetState joins only the tenants that
    changed again (the others keep the same immutable TenantState object), so a tenant whose
    state object and age texts are unchanged keeps its cells: a one-second tick or a
    snapshot touching a few tenants does not rebuild thousands of rows (see
    benchmarks/RESULTS.md)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Cached] = {}
        self._next: dict[str, _Cached] = {}

    def cells(self, tenant: TenantState, now: datetime) -> tuple[Text, ...]:
        entry = self._entries.get(tenant.name)
        if entry is not None and entry.state is tenant:
            ages = (fmt.age(now, entry.checked), _smoke_age(now, tenant.smoke))
            if ages != entry.ages:
                entry = _Cached(tenant, entry.checked, ages, _fit(tenant_cells(tenant, now)))
        else:
            checked = data_checked_at(tenant)
            ages = (fmt.age(now, checked), _smoke_age(now, tenant.smoke))
            entry = _Cached(tenant, checked, ages, _fit(tenant_cells(tenant, now)))
        self._next[tenant.name] = entry
        return entry.cells

    def finish(self) -> None:
        """End of a build: keep only the tenants it showed."""
        self._entries, self._next = self._next, {}


@dataclass(frozen=True, slots=True)
class _Cached:
    state: TenantState
    checked: datetime | None  # when the tenant's probe data was taken
    ages: tuple[str, str]  # the age texts the cells show: data, smoke result
    cells: tuple[Text, ...]


def _smoke_age(now: datetime, smoke: SmokeOutcome | None) -> str:
    return fmt.age(now, smoke.checked_at) if smoke is not None else ""


@dataclass(frozen=True, slots=True)
class WaveGroup:
    wave: int | None
    summary: Text  # "▼ wave 1 · 4 tenants · 3 healthy · 1 degraded"
    tenants: tuple[TenantState, ...]  # those matching the filter, by name


def wave_groups(snapshot: FleetSnapshot, query: str = "") -> list[WaveGroup]:
    """The waves in rollout order (canary first), each with its line and its matching
    tenants; a wave with none matching is left out. The line counts every member."""
    groups = []
    for wave in snapshot.waves():
        members = sorted(
            (tenant for tenant in snapshot.tenants if tenant.wave == wave),
            key=lambda tenant: tenant.name,
        )
        shown = tuple(t for t in members if tenant_matches(t, query))
        if shown:
            groups.append(WaveGroup(wave, wave_summary(wave, members), shown))
    return groups


def build_rows(
    snapshot: FleetSnapshot,
    now: datetime,
    query: str = "",
    cache: RowCache | None = None,
) -> list[Row]:
    """Every row to show, in order: each wave's line, then its matching tenants by name.
    With a `cache`, unchanged tenants reuse the cells of the previous build."""
    cells = cache.cells if cache is not None else fitted_cells
    rows: list[Row] = []
    for group in wave_groups(snapshot, query):
        rows.append(Row(wave_key(group.wave), _spread(group.summary)))
        rows.extend(Row(tenant_key(t.name), cells(t, now)) for t in group.tenants)
    if cache is not None:
        cache.finish()
    return rows
