"""States as a symbol plus a word plus a style, so they read without colour (NO_COLOR, light
terminals, screen readers) and the colour only reinforces them.

The styles come from a palette: colours by default; under NO_COLOR attributes only (reverse
video for errors, underline for warnings), because Textual turns colours into shades of grey
there and bold red became dark grey on dark grey; a high-contrast one on request. The console
picks it at start (`use_palette`); the CLI keeps the default (Rich drops colours by itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from ncconsole.fleet.health import pods_ready
from ncconsole.fleet.model import BucketProbe, Health, StatusPhpProbe, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.kube import revisions


@dataclass(frozen=True)
class Palette:
    name: str
    good: str
    bad: str
    warn: str
    busy: str
    muted: str


COLOUR = Palette("colour", "green", "bold red", "yellow", "cyan", "dim")
NO_COLOUR = Palette("no-color", "", "bold reverse", "underline", "italic", "dim")
HIGH_CONTRAST = Palette(
    "high-contrast", "bold bright_green", "bold bright_white on red",
    "bold black on bright_yellow", "bold bright_cyan", "",
)  # fmt: skip
PALETTES = {p.name: p for p in (COLOUR, NO_COLOUR, HIGH_CONTRAST)}

# The palette in use, as style strings (read at call time, so use_palette changes them).
GOOD, BAD, WARN, BUSY, MUTED = COLOUR.good, COLOUR.bad, COLOUR.warn, COLOUR.busy, COLOUR.muted


def use_palette(palette: Palette) -> None:
    """Render every later cell with `palette`'s styles."""
    global GOOD, BAD, WARN, BUSY, MUTED
    GOOD, BAD, WARN, BUSY, MUTED = (
        palette.good, palette.bad, palette.warn, palette.busy, palette.muted
    )  # fmt: skip


def style(kind: str) -> str:
    """The current style of a kind: "good", "bad", "warn", "busy", "muted"."""
    return {"good": GOOD, "bad": BAD, "warn": WARN, "busy": BUSY, "muted": MUTED}[kind]


_HEALTH: dict[Health, tuple[str, str]] = {
    Health.HEALTHY: ("✔", "good"),
    Health.DEGRADED: ("✖", "bad"),
    Health.FAILED: ("✖", "bad"),
    Health.MISSING: ("⊘", "bad"),
    Health.MAINTENANCE: ("⚠", "warn"),
    Health.PROGRESSING: ("◐", "busy"),
    Health.UNKNOWN: ("?", "muted"),
    Health.PENDING: ("…", "muted"),
}

_SYNC: dict[str, tuple[str, str, str]] = {
    "Synced": ("✔", "synced", "good"),
    "OutOfSync": ("↻", "out of sync", "warn"),
}

_S3: dict[str, tuple[str, str]] = {
    "ok": ("✔", "good"),
    "missing": ("✖", "bad"),
    "denied": ("✖", "bad"),
    "timeout": ("⧗", "warn"),
    "unreachable": ("✖", "bad"),
    "error": ("✖", "bad"),
    "no-credentials": ("?", "warn"),
}


def cell(text: str, style: str = "") -> Text:
    """A table cell: never parsed as markup, never wrapped."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis", end="")


def labelled(symbol: str, word: str, style: str) -> Text:
    return cell(f"{symbol} {word}", style)


def health_style(health: Health) -> str:
    return style(_HEALTH[health][1])


def health_text(health: Health) -> Text:
    symbol, kind = _HEALTH[health]
    return labelled(symbol, health.value, style(kind))


def sync_text(status: str | None) -> Text:
    if status is None:
        return labelled("–", "no app", MUTED)
    symbol, word, kind = _SYNC.get(status, ("?", status.lower() or "unknown", "muted"))
    return labelled(symbol, word, style(kind))


_S3_WORDS = {"no-credentials": "no keys"}


def s3_text(probe: BucketProbe | None) -> Text:
    if probe is None:
        return labelled("…", "pending", MUTED)
    symbol, kind = _S3.get(probe.state, ("?", "muted"))
    return labelled(symbol, _S3_WORDS.get(probe.state, probe.state), style(kind))


def maintenance_text(probe: StatusPhpProbe | None) -> Text:
    if probe is None or probe.maintenance is None:
        return labelled("?", "n/a", MUTED)
    if probe.maintenance:
        return labelled("⚠", "on", WARN)
    return cell("off", MUTED)


def version_text(probe: StatusPhpProbe | None) -> Text:
    if probe is None:
        return cell("…", MUTED)
    if not probe.ok and not probe.versionstring:
        return labelled("✖", "down", BAD)
    return cell(probe.versionstring or probe.version or "?")


def pods_text(tenant: TenantState) -> Text:
    ready, desired = pods_ready(tenant.pods, tenant.deployment)
    style = GOOD if desired and ready >= desired else (BAD if desired else MUTED)
    return cell(f"{ready}/{desired}", style)


def restarts_text(restarts: int) -> Text:
    style = BAD if restarts >= 5 else WARN if restarts else ""
    return cell(str(restarts), style)


_WAVE_DRIFT = re.compile(r"wave label (\S+) differs from file wave (\S+)")


def drift_word(drift: str) -> str:
    """The short form for a table cell; the detail screen shows the full sentence."""
    return _WAVE_DRIFT.sub(r"wave mismatch (label \1)", drift)


def drift_text(drift: tuple[str, ...]) -> Text:
    if not drift:
        return cell("")
    return labelled("⚑", ", ".join(drift_word(item) for item in drift), WARN)


def age(now: datetime, then: datetime | None) -> str:
    """A short age like k9s shows: 42s, 7m, 3h, 5d; "–" when unknown."""
    if then is None:
        return "–"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def coarse_age(now: datetime, then: datetime | None) -> str:
    """An age for a live table: whole tens of seconds under a minute (<10s, 10s, … 50s), then
    like `age`. Probe data is refreshed every 15-60 s, so seconds would only make the text
    change every second for every tenant on screen, with nothing new to read."""
    if then is None:
        return "–"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 10:
        return "<10s"
    if seconds < 60:
        return f"{seconds // 10 * 10}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return age(now, then)


_SMOKE: dict[str, tuple[str, str]] = {
    "pass": ("✔", "good"), "warn": ("!", "warn"), "fail": ("✖", "bad"),
}  # fmt: skip


def smoke_text(outcome: SmokeOutcome | None, now: datetime, revision: str = "") -> Text:
    """The last smoke result and its age ("✔ pass 3m"), "–" when there is none; dimmed when
    it was taken at another revision than the tenant's current one, so it no longer vouches
    for what runs."""
    if outcome is None:
        return cell("–", MUTED)
    symbol, kind = _SMOKE.get(outcome.result, ("?", "muted"))
    if revision and outcome.revision and outcome.revision != revision:
        kind = "muted"
    return labelled(symbol, f"{outcome.result} {coarse_age(now, outcome.checked_at)}", style(kind))


def local_time(moment: datetime | str | None) -> str:
    """A moment in the local time zone with date and offset: 2026-12-04 19:34:38 +01:00
    (audit trails are read across days and by colleagues elsewhere)."""
    if moment is None or moment == "":
        return ""
    try:
        value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    local = value.astimezone()
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"


def revision_words(key: str) -> str:
    """An Application's revision(s) for people: the chart version and a short commit,
    "6.6.9@1f0c2ab" (a single-source one: the short commit); "?" when unknown."""
    return revisions.short(key)


def human_bytes(value: int | None) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"
