"""The fleet table, computed from a snapshot: wave lines and tenant lines, in order, with the
same columns, words and symbols for the console and `ncconsole status`.

Pure functions, so the console's table widget only diffs what they return. Row keys are
stable: "wave:<n>" (or "wave:none", "wave:all") and "tenant:<name>". Which columns show and
how wide is a layout (render/layout.py: fitted to the terminal, or every column whole for
`status`); the order is a SortOrder (wave then name by default, problems first, a column);
the filter is render/filter.py's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from rich.text import Text

from ncconsole.fleet.health import data_checked_at, deployed_revision, pods_ready
from ncconsole.fleet.model import FleetSnapshot, Health, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.probes.results import same_answer
from ncconsole.render import cells as fmt
from ncconsole.render.filter import matches, parse_query
from ncconsole.render.layout import KEYS, SPECS, Column, content_widths, full_columns
from ncconsole.render.platform_states import alerts_cell

# Every column at its cap: the layout of a wide terminal, and the order cells come in.
COLUMNS: tuple[Column, ...] = tuple(
    Column(s.key, s.label, (s.cap or 60) + 1) for s in SPECS
)  # fmt: skip
_INDEX = {key: i for i, key in enumerate(KEYS)}

WAVE_PREFIX = "wave:"
TENANT_PREFIX = "tenant:"
ALL_WAVES = None  # the group of a flat (across waves) order


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


def wave_summary(title: str, tenants: Sequence[TenantState]) -> Text:
    noun = "tenant" if len(tenants) == 1 else "tenants"
    text = Text(f"▼ {title}", style="bold")
    text.append(f" · {len(tenants)} {noun} · ")
    text.append_text(health_counts(tenants))
    # A rollout in progress shows as Applications out of sync with the repo.
    behind = sum(1 for t in tenants if t.app is not None and t.app.sync_status == "OutOfSync")
    if behind:
        text.append(f" · ↻ {behind} out of sync", style=fmt.WARN)
    return text


def tenant_matches(tenant: TenantState, query: str) -> bool:
    """The `/` filter (render/filter.py): words the row shows, fields, negation."""
    return matches(tenant, parse_query(query), tenant.smoke)


# -- the order ----------------------------------------------------------------------------------

_SEVERITY = {health: rank for rank, health in enumerate(Health)}


def _restarts(t: TenantState) -> int:
    return sum(pod.restarts for pod in t.pods)


def _version_key(t: TenantState) -> tuple[int, ...]:
    text = (t.web.versionstring or t.web.version or "") if t.web is not None else ""
    return tuple(int(part) for part in text.split(".") if part.isdigit()) or (10**9,)


def _ready_share(t: TenantState) -> float:
    ready, desired = pods_ready(t.pods, t.deployment)
    return ready / desired if desired else 1.0


# key -> (what the header says, sort key ascending, the natural direction is descending)
SORTS: dict[str, tuple[str, Callable[[TenantState], object], bool]] = {
    "name": ("name", lambda t: t.name, False),
    "health": ("problems first", lambda t: (_SEVERITY[t.health], -_restarts(t)), False),
    "restarts": ("restarts", _restarts, True),
    "version": ("version", _version_key, False),
    "pods": ("pods ready", _ready_share, False),
    "env": ("environment", lambda t: t.environment, False),
}


@dataclass(frozen=True, slots=True)
class SortOrder:
    key: str = "name"
    reverse: bool = False  # against the key's natural direction
    by_wave: bool = True  # within each wave (False: one list across waves)

    def describe(self) -> str:
        label, _, descending = SORTS[self.key]
        arrow = "" if self.key in ("name", "health") else (" ↓" if descending else " ↑")
        if self.reverse:
            arrow = {" ↓": " ↑", " ↑": " ↓", "": " (reversed)"}[arrow]
        return f"sort: {label}{arrow}, {'within waves' if self.by_wave else 'across waves'}"

    def sorted(self, tenants: Iterable[TenantState]) -> list[TenantState]:
        _, key, descending = SORTS[self.key]
        by_name = sorted(tenants, key=lambda t: t.name)
        return sorted(by_name, key=key, reverse=descending != self.reverse)  # type: ignore[arg-type]


DEFAULT_ORDER = SortOrder()


# -- the cells ----------------------------------------------------------------------------------


def reason_text(tenant: TenantState) -> Text:
    """The health reason, then what drifted between repo and cluster (⚑ orphan, ⚑ wave
    mismatch) unless the reason says it already."""
    text = fmt.cell(tenant.reason, fmt.MUTED if tenant.health is Health.HEALTHY else "")
    drift = [fmt.drift_word(item) for item in tenant.drift]
    drift = [item for item in drift if item not in tenant.reason]
    if drift:
        if text.plain:
            text.append("; ")
        text.append(f"⚑ {', '.join(drift)}", style=fmt.WARN)
    return text


def tenant_cells(tenant: TenantState, now: datetime, flat: bool = False) -> tuple[Text, ...]:
    """Every column's cell (in layout.KEYS order), uncut."""
    name = fmt.cell(tenant.name, "bold" if tenant.health is not Health.HEALTHY else "")
    wave = "" if not flat else "-" if tenant.wave is None else str(tenant.wave)
    return (
        name,
        fmt.cell(wave, fmt.MUTED),
        fmt.health_text(tenant.health),
        reason_text(tenant),
        alerts_cell(tenant.platform),
        fmt.sync_text(tenant.app.sync_status if tenant.app else None),
        smoke_cell(tenant, now),
        fmt.pods_text(tenant),
        fmt.restarts_text(_restarts(tenant)),
        fmt.version_text(tenant.web),
        fmt.s3_text(tenant.s3),
        fmt.cell(tenant.environment),
        age_cell(tenant, now),
    )


def smoke_cell(tenant: TenantState, now: datetime) -> Text:
    return fmt.smoke_text(tenant.smoke, now, deployed_revision(tenant.app))


def age_cell(tenant: TenantState, now: datetime) -> Text:
    """How old the tenant's outside-in (probe) data is."""
    return fmt.cell(fmt.coarse_age(now, data_checked_at(tenant)), fmt.MUTED)


# The cells whose text depends on the clock, by column: the only ones that change between
# snapshots, and the only ones a probe repeating its answer changes.
TIME_CELLS: dict[str, Callable[[TenantState, datetime], Text]] = {
    "smoke": smoke_cell, "checked": age_cell,
}  # fmt: skip


def time_texts(tenant: TenantState, now: datetime) -> tuple[str, str]:
    """What the clock-dependent cells say at `now`: when it changes, they are redrawn."""
    return (fmt.coarse_age(now, data_checked_at(tenant)), _smoke_age(now, tenant.smoke))


def project(cells: tuple[Text, ...], layout: Sequence[Column]) -> tuple[Text, ...]:
    """The layout's columns of `cells`, each cut one short of its width (the space that
    separates columns stays), with … where cut."""
    return tuple(cut(cells[_INDEX[column.key]], column) for column in layout)


def cut(text: Text, column: Column) -> Text:
    """One cell cut one short of its column's width, with … where cut."""
    if text.cell_len < column.width:
        return text
    first = text.plain.find("; ")
    room = column.width - 1
    if column.key == "reason" and 0 < first <= room:
        # Whole reasons rather than half of the second: "A; B" -> "A …" (or "A").
        return text[:first] + Text(" …", end="") if first + 2 <= room else text[:first]
    text = text.copy()
    text.truncate(column.width - 1, overflow="ellipsis")
    return text


def fitted_cells(tenant: TenantState, now: datetime) -> tuple[Text, ...]:
    """The tenant's cells in the default layout (COLUMNS)."""
    return project(tenant_cells(tenant, now), COLUMNS)


def measure(snapshot: FleetSnapshot, now: datetime, flat: bool = False) -> dict[str, int]:
    """The widest cell per column among the snapshot's tenants, for layout.fit_columns."""
    return content_widths(
        [tuple(c.plain for c in tenant_cells(t, now, flat)) for t in snapshot.tenants]
    )


def whole_columns(snapshot: FleetSnapshot, now: datetime) -> tuple[Column, ...]:
    """Every column with content, wide enough for every cell: output without a width."""
    return full_columns(measure(snapshot, now))


def _spread(text: Text, layout: Sequence[Column]) -> tuple[Text, ...]:
    """Cut one line into per-column pieces so it reads as a single line across the table."""
    offsets = []
    position = 0
    for column in layout[:-1]:
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
    A new layout or order starts over.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Cached] = {}
        self._next: dict[str, _Cached] = {}
        self._shape: tuple[tuple[Column, ...], bool] | None = None

    def cells(
        self, tenant: TenantState, now: datetime, layout: Sequence[Column], flat: bool = False
    ) -> tuple[Text, ...]:
        """The cells for a build (see `finish`)."""
        shape = (tuple(layout), flat)
        if shape != self._shape:
            self._entries, self._shape = {}, shape
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

    def _entry(self, entry: _Cached | None, tenant: TenantState, now: datetime) -> _Cached:
        layout, flat = self._shape or (COLUMNS, False)
        ages = time_texts(tenant, now)
        if entry is None or not _same_but_probe_times(entry.state, tenant):
            return _Cached(tenant, ages, project(tenant_cells(tenant, now, flat), layout))
        if ages == entry.ages:
            return _Cached(tenant, ages, entry.cells)
        cells = list(entry.cells)
        for index, column in enumerate(layout):
            make = TIME_CELLS.get(column.key)
            if make is not None:
                cells[index] = cut(make(tenant, now), column)
        return _Cached(tenant, ages, tuple(cells))


class CellWidths:
    """Each tenant's uncut cell widths (layout.KEYS order), for fitting the columns to the
    terminal: measured again only for a tenant that changed, and for one whose probe only
    repeated its answer, only its clock-dependent cells (TIME_CELLS), as RowCache redraws.
    Per column it counts how many tenants have each width, so the widest follows a change
    without a pass over every tenant's widths."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[TenantState, bool, tuple[int, ...]]] = {}
        self._counts: tuple[Counter[int], ...] = tuple(Counter() for _ in KEYS)

    def widest(self, tenants: Sequence[TenantState], now: datetime, flat: bool) -> dict[str, int]:
        """The widest cell of each column over `tenants` (and forget every other tenant)."""
        known_all, before, found = self._known, len(self._known), 0
        for tenant in tenants:
            known = known_all.get(tenant.name)
            if known is not None:
                found += 1
                if known[0] is tenant and known[1] == flat:
                    continue
                self._add(known[2], -1)
            lengths = _measure(known, tenant, now, flat)
            self._add(lengths, 1)
            known_all[tenant.name] = (tenant, flat, lengths)
        if found < before:  # some tenants are gone
            for name in known_all.keys() - {tenant.name for tenant in tenants}:
                self._add(known_all.pop(name)[2], -1)
        return {key: max(counts, default=0) for key, counts in zip(KEYS, self._counts, strict=True)}

    def _add(self, lengths: tuple[int, ...], step: int) -> None:
        for counts, length in zip(self._counts, lengths, strict=True):
            counts[length] += step
            if not counts[length]:
                del counts[length]


def _measure(
    known: tuple[TenantState, bool, tuple[int, ...]] | None,
    tenant: TenantState,
    now: datetime,
    flat: bool,
) -> tuple[int, ...]:
    if known is not None and known[1] == flat and _same_but_probe_times(known[0], tenant):
        lengths = list(known[2])
        for key, make in TIME_CELLS.items():
            lengths[_INDEX[key]] = make(tenant, now).cell_len
        return tuple(lengths)
    return tuple(text.cell_len for text in tenant_cells(tenant, now, flat))


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
    tenants: tuple[TenantState, ...]  # those matching the filter, in the order asked for
    key: str = ""  # the row key of its line


def wave_groups(
    snapshot: FleetSnapshot, query: str = "", order: SortOrder = DEFAULT_ORDER
) -> list[WaveGroup]:
    """The waves in rollout order (canary first), each with its line and its matching
    tenants in `order`; a wave with none matching is left out. The line counts every
    member. Across waves: one group of every matching tenant."""
    terms = parse_query(query)

    def shown(members: Iterable[TenantState]) -> tuple[TenantState, ...]:
        return tuple(order.sorted(t for t in members if matches(t, terms, t.smoke)))

    if not order.by_wave:
        everyone = shown(snapshot.tenants)
        if not everyone:
            return []
        title = f"all waves, {order.describe().removeprefix('sort: ')}"
        return [WaveGroup(ALL_WAVES, wave_summary(title, snapshot.tenants), everyone,
                          f"{WAVE_PREFIX}all")]  # fmt: skip
    by_wave: dict[int | None, list[TenantState]] = {}
    for tenant in snapshot.tenants:  # one pass: this runs for every snapshot
        by_wave.setdefault(tenant.wave, []).append(tenant)
    groups = []
    for wave in sorted(by_wave, key=lambda wave: (wave is None, wave or 0)):
        members = by_wave[wave]
        matching = shown(members)
        if matching:
            summary = wave_summary(wave_title(wave), members)
            groups.append(WaveGroup(wave, summary, matching, wave_key(wave)))
    return groups


def build_rows(
    snapshot: FleetSnapshot,
    now: datetime,
    query: str = "",
    cache: RowCache | None = None,
    layout: Sequence[Column] = COLUMNS,
    order: SortOrder = DEFAULT_ORDER,
) -> list[Row]:
    """Every row to show, in order: each wave's line, then its matching tenants. With a
    `cache`, unchanged tenants reuse the cells of the previous build."""
    flat = not order.by_wave
    rows: list[Row] = []
    for group in wave_groups(snapshot, query, order):
        rows.append(Row(group.key, _spread(group.summary, layout)))
        for t in group.tenants:
            cells = (
                cache.cells(t, now, layout, flat)
                if cache is not None
                else project(tenant_cells(t, now, flat), layout)
            )
            rows.append(Row(tenant_key(t.name), cells))
    if cache is not None:
        cache.finish()
    return rows
