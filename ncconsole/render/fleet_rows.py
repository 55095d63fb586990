"""The fleet table, computed from a snapshot: wave lines and tenant lines, in order, with the
same columns, words and symbols for the console and `ncconsole status`.

Pure functions, so the console's table widget only diffs what they return. Row keys are
stable: "wave:<n>" (or "wave:none") and "tenant:<name>". `wave_groups` and `fitted_cells` give
the same content to a one-shot printer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from rich.text import Text

from ncconsole.fleet.health import data_checked_at, deployed_revision
from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.probes.results import same_answer
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
        smoke_cell(tenant, now),
        fmt.pods_text(tenant),
        fmt.restarts_text(sum(pod.restarts for pod in tenant.pods)),
        fmt.version_text(tenant.web),
        fmt.maintenance_text(tenant.web),
        fmt.s3_text(tenant.s3),
        fmt.cell(tenant.environment),
        age_cell(tenant, now),
        fmt.drift_text(tenant.drift),
    )


def smoke_cell(tenant: TenantState, now: datetime) -> Text:
    return fmt.smoke_text(tenant.smoke, now, deployed_revision(tenant.app))


def age_cell(tenant: TenantState, now: datetime) -> Text:
    """How old the tenant's outside-in (probe) data is."""
    return fmt.cell(fmt.coarse_age(now, data_checked_at(tenant)), fmt.MUTED)


# The cells whose text depends on the clock, by column: the only ones that change between
# snapshots, and the only ones a probe repeating its answer changes.
TIME_CELLS = {"smoke": smoke_cell, "age": age_cell}


def time_texts(tenant: TenantState, now: datetime) -> tuple[str, str]:
    """What the clock-dependent cells say at `now`: when it changes, they are redrawn."""
    return (fmt.coarse_age(now, data_checked_at(tenant)), _smoke_age(now, tenant.smoke))


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
    """Tenant cells kept from one build to the next, so that work follows what changed, not
    the fleet's size (benchmarks/RESULTS.md):
    - FleetState joins only the tenants that changed again; the others keep the same
      immutable TenantState object and so their cells, without even a look at the clock;
    - a tenant rebuilt only because a probe repeated its answer at a later time keeps every
      cell but the clock-dependent ones (TIME_CELLS);
    - those are redrawn by `refresh`, which the console calls each second for the rows in
      view only, when their text (coarse ages) changed.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Cached] = {}
        self._next: dict[str, _Cached] = {}

    def cells(self, tenant: TenantState, now: datetime) -> tuple[Text, ...]:
        """The cells for a build (see `finish`)."""
        entry = self._entries.get(tenant.name)
        if entry is None or entry.state is not tenant:
            entry = self._entry(entry, tenant, now)
        self._next[tenant.name] = entry
        return entry.cells

    def refresh(self, tenant: TenantState, now: datetime) -> tuple[Text, ...]:
        """The cells of a tenant on screen at `now`: the same object when nothing changed."""
        entry = self._entries.get(tenant.name)
        if entry is None or entry.state is not tenant or entry.ages != time_texts(tenant, now):
            entry = self._entry(entry, tenant, now)
            self._entries[tenant.name] = entry
        return entry.cells

    def finish(self) -> None:
        """End of a build: keep only the tenants it showed."""
        self._entries, self._next = self._next, {}

    @staticmethod
    def _entry(entry: _Cached | None, tenant: TenantState, now: datetime) -> _Cached:
        ages = time_texts(tenant, now)
        if entry is None or not _same_but_probe_times(entry.state, tenant):
            return _Cached(tenant, ages, _fit(tenant_cells(tenant, now)))
        if ages == entry.ages:
            return _Cached(tenant, ages, entry.cells)
        cells = list(entry.cells)
        for index, column in enumerate(COLUMNS):
            make = TIME_CELLS.get(column.key)
            if make is not None:
                cells[index] = make(tenant, now)
        return _Cached(tenant, ages, _fit(tuple(cells)))


# TenantState fields besides the probe results; equal in both and the same probe answers
# mean the same cells except the clock-dependent ones.
_STATE_FIELDS = tuple(f.name for f in fields(TenantState) if f.name not in ("web", "s3"))


def _same_but_probe_times(old: TenantState, new: TenantState) -> bool:
    for name in _STATE_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before is not after and before != after:
            return False
    return same_answer(old.web, new.web) and same_answer(old.s3, new.s3)


@dataclass(frozen=True, slots=True)
class _Cached:
    state: TenantState
    ages: tuple[str, str]  # what the clock-dependent cells say (time_texts)
    cells: tuple[Text, ...]


def _smoke_age(now: datetime, smoke: SmokeOutcome | None) -> str:
    return fmt.coarse_age(now, smoke.checked_at) if smoke is not None else ""


@dataclass(frozen=True, slots=True)
class WaveGroup:
    wave: int | None
    summary: Text  # "▼ wave 1 · 4 tenants · 3 healthy · 1 degraded"
    tenants: tuple[TenantState, ...]  # those matching the filter, by name


def wave_groups(snapshot: FleetSnapshot, query: str = "") -> list[WaveGroup]:
    """The waves in rollout order (canary first), each with its line and its matching
    tenants; a wave with none matching is left out. The line counts every member."""
    by_wave: dict[int | None, list[TenantState]] = {}
    for tenant in snapshot.tenants:  # one pass: this runs for every snapshot
        by_wave.setdefault(tenant.wave, []).append(tenant)
    groups = []
    for wave in sorted(by_wave, key=lambda wave: (wave is None, wave or 0)):
        members = sorted(by_wave[wave], key=lambda tenant: tenant.name)
        shown = tuple(t for t in members if tenant_matches(t, query)) if query else members
        if shown:
            groups.append(WaveGroup(wave, wave_summary(wave, members), tuple(shown)))
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
