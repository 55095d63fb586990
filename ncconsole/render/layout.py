"""Which fleet columns fit a terminal, and how wide each is, as k9s does it: every column is
as wide as its widest cell (within a cap), REASON takes the room that is left, and when the
terminal is too narrow the least needed columns go first - never TENANT, HEALTH or REASON.
At 80 columns the reason stays readable; at 140 every column of the demo fleet fits but
PROBED, the first to go (ALERTS took its room). Drift (orphan, wave mismatch) is told in the
REASON cell, not a column of its own that is mostly empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int  # including one trailing space that separates it from the next


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    label: str
    cap: int  # the widest it gets (cells longer than that are cut with …)
    drop: int  # the order in which columns go when there is no room: 1 first; 0 never


# In the order shown. REASON is the flexible one.
SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("tenant", "TENANT", 40, 0),
    ColumnSpec("wave", "WAVE", 5, 11),  # only when sorted across waves (no wave lines then)
    ColumnSpec("health", "HEALTH", 14, 0),
    ColumnSpec("reason", "REASON", 0, 0),
    # How many Alertmanager alerts fire on the tenant (render/platform_states.alerts_cell).
    ColumnSpec("alerts", "ALERTS", 11, 9),
    ColumnSpec("sync", "SYNC", 14, 10),
    ColumnSpec("smoke", "SMOKE", 11, 6),
    ColumnSpec("pods", "PODS", 7, 8),
    ColumnSpec("restarts", "RST", 5, 7),
    ColumnSpec("version", "VER", 11, 5),  # Nextcloud's version, from status.php
    ColumnSpec("s3", "S3", 14, 4),
    ColumnSpec("env", "ENV", 10, 3),
    # How long ago status.php and S3 were probed: the age of the outside-in data.
    ColumnSpec("checked", "PROBED", 8, 2),
)
KEYS = tuple(spec.key for spec in SPECS)
REASON_MIN = 20  # never narrower than this
# Columns go, least needed first, until the reason has this much room (or all it needs).
REASON_WANTED = 32
REASON_MAX = 60  # wider than that and the columns after it move too far right


def content_widths(rows: list[tuple[str, ...]]) -> dict[str, int]:
    """The widest cell per column key among `rows` (plain cell texts in SPECS order)."""
    widths = dict.fromkeys(KEYS, 0)
    for cells in rows:
        for key, text in zip(KEYS, cells, strict=True):
            if len(text) > widths[key]:
                widths[key] = len(text)
    return widths


def fit_columns(available: int, widths: Mapping[str, int]) -> tuple[Column, ...]:
    """The columns to show in `available` cells, given each column's widest cell. A column
    with no content at all (DRIFT when nothing drifted) is left out."""
    natural = {
        spec.key: min(spec.cap, max(len(spec.label), widths.get(spec.key, 0))) + 1
        for spec in SPECS
        if spec.key != "reason"
    }
    shown = [s for s in SPECS if s.key == "reason" or s.drop == 0 or widths.get(s.key, 0) > 0]
    reason_width = max(len("REASON") + 1, widths.get("reason", 0) + 1)
    wanted = min(REASON_WANTED, reason_width)
    for spec in sorted((s for s in shown if s.drop), key=lambda s: s.drop):
        used = sum(natural[s.key] for s in shown if s.key != "reason")
        if available - used >= wanted:
            break
        shown.remove(spec)
    used = sum(natural[s.key] for s in shown if s.key != "reason")
    reason = max(min(available - used, REASON_MAX, reason_width), min(REASON_MIN, reason_width))
    return tuple(
        Column(s.key, s.label, reason if s.key == "reason" else natural[s.key]) for s in shown
    )


def full_columns(widths: Mapping[str, int]) -> tuple[Column, ...]:
    """Every column with content, none cut: for output without a width (`ncconsole status`
    piped)."""
    return tuple(
        Column(s.key, s.label, max(len(s.label), widths.get(s.key, 0)) + 1)
        for s in SPECS
        if s.drop == 0 or widths.get(s.key, 0) > 0
    )
