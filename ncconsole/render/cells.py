"""States as a symbol plus a word plus a colour, so they read without colour (NO_COLOR, light
terminals, screen readers) and the colour only reinforces them."""

from __future__ import annotations

import re
from datetime import datetime

from rich.text import Text

from ncconsole.fleet.health import pods_ready
from ncconsole.fleet.model import BucketProbe, Health, StatusPhpProbe, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome

GOOD = "green"
BAD = "bold red"
WARN = "yellow"
BUSY = "cyan"
MUTED = "dim"

_HEALTH: dict[Health, tuple[str, str]] = {
    Health.HEALTHY: ("✔", GOOD),
    Health.DEGRADED: ("✖", BAD),
    Health.FAILED: ("✖", BAD),
    Health.MISSING: ("⊘", BAD),
    Health.PROGRESSING: ("◐", BUSY),
    Health.UNKNOWN: ("?", MUTED),
}

_SYNC: dict[str, tuple[str, str, str]] = {
    "Synced": ("✔", "synced", GOOD),
    "OutOfSync": ("↻", "out of sync", WARN),
}

_S3: dict[str, tuple[str, str]] = {
    "ok": ("✔", GOOD),
    "missing": ("✖", BAD),
    "denied": ("✖", BAD),
    "timeout": ("⧗", WARN),
    "unreachable": ("✖", BAD),
    "error": ("✖", BAD),
    "no-credentials": ("?", WARN),
}


def cell(text: str, style: str = "") -> Text:
    """A table cell: never parsed as markup, never wrapped."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis", end="")


def labelled(symbol: str, word: str, style: str) -> Text:
    return cell(f"{symbol} {word}", style)


def health_style(health: Health) -> str:
    return _HEALTH[health][1]


def health_text(health: Health) -> Text:
    symbol, style = _HEALTH[health]
    return labelled(symbol, health.value, style)


def sync_text(status: str | None) -> Text:
    if status is None:
        return labelled("–", "no app", MUTED)
    symbol, word, style = _SYNC.get(status, ("?", status.lower() or "unknown", MUTED))
    return labelled(symbol, word, style)


_S3_WORDS = {"no-credentials": "no keys"}


def s3_text(probe: BucketProbe | None) -> Text:
    if probe is None:
        return labelled("…", "pending", MUTED)
    symbol, style = _S3.get(probe.state, ("?", MUTED))
    return labelled(symbol, _S3_WORDS.get(probe.state, probe.state), style)


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


_SMOKE: dict[str, tuple[str, str]] = {"pass": ("✔", GOOD), "warn": ("!", WARN), "fail": ("✖", BAD)}


def smoke_text(outcome: SmokeOutcome | None, now: datetime, revision: str = "") -> Text:
    """The last smoke result and its age ("✔ pass 3m"); dimmed when it was taken at another
    revision than the tenant's current one, so it no longer vouches for what runs."""
    if outcome is None:
        return labelled("–", "none", MUTED)
    symbol, style = _SMOKE.get(outcome.result, ("?", MUTED))
    if revision and outcome.revision and outcome.revision != revision:
        style = MUTED
    return labelled(symbol, f"{outcome.result} {age(now, outcome.checked_at)}", style)


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


def human_bytes(value: int | None) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"
