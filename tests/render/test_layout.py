"""Column fitting: REASON stays at 80 columns, every column of the demo fleet fits at 140."""

from __future__ import annotations

from ncconsole.render.layout import REASON_MIN, fit_columns, full_columns

# The widest cells of the demo fleet per column ("CrashLoopBackOff ×2 (46 restarts)").
DEMO = {
    "tenant": 29, "wave": 0, "health": 13, "reason": 33, "sync": 13, "smoke": 10, "pods": 3,
    "restarts": 2, "version": 6, "s3": 4, "env": 6, "checked": 3,
}  # fmt: skip


def keys(columns) -> list[str]:
    return [column.key for column in columns]


def test_at_140_every_column_with_content_fits_and_the_reason_is_whole():
    columns = fit_columns(140, DEMO)
    assert keys(columns) == [
        "tenant", "health", "reason", "sync", "smoke", "pods", "restarts", "version", "s3",
        "env", "checked",
    ]  # fmt: skip
    assert sum(c.width for c in columns) <= 140
    widths = {c.key: c.width for c in columns}
    assert all(widths[key] > DEMO[key] for key in widths)  # nothing cut


def test_at_80_the_least_needed_columns_go_and_the_reason_stays():
    columns = fit_columns(78, DEMO)  # 80 less the scrollbar
    assert keys(columns) == ["tenant", "health", "reason"]
    assert sum(c.width for c in columns) <= 78
    assert next(c for c in columns if c.key == "reason").width == DEMO["reason"] + 1
    # Short names leave room for the sync state, which goes before the reason is cut.
    assert keys(fit_columns(78, DEMO | {"tenant": 13})) == ["tenant", "health", "reason", "sync"]
    assert next(c for c in fit_columns(60, DEMO) if c.key == "reason").width >= REASON_MIN


def test_wave_shows_only_with_content_and_full_columns_cut_nothing():
    assert "wave" not in keys(fit_columns(200, DEMO))
    assert "wave" in keys(fit_columns(200, DEMO | {"wave": 1}))  # sorted across waves
    full = {c.key: c.width for c in full_columns(DEMO | {"reason": 95})}
    assert full["reason"] == 96 and "wave" not in full
