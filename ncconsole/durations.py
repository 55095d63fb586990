"""Durations and counts as a user types them, checked against a range in one place.

Every duration the console takes — a flag (`--timeout 10m`, `--since 2h`), an environment
variable (`NCCONSOLE_OCC__TIMEOUT=90s`) or a config-file value (`interval: 15`) — goes
through `parse_seconds` with the range its setting declares, so a bad value is refused once,
at the edge, in one line, instead of reaching a library as `-5`, `0` or `1e18` seconds.

The syntax is kubectl's (`90s`, `10m`, `1h30m`, `500ms`) plus `d` and `w`, through
durationpy (the Kubernetes client's own parser); a plain number means seconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import durationpy
from pydantic import BeforeValidator

EXAMPLES = "e.g. 90s, 10m, 1h30m, 7d"


class BadValue(ValueError):
    """A duration or count that cannot be read, or is out of its range; `str()` says why."""


def format_seconds(seconds: float) -> str:
    """`5400` -> `1h30m`, `0.5` -> `500ms`: the way durations are shown back to the user."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g}d"
    return durationpy.to_str(timedelta(seconds=seconds))


@dataclass(frozen=True)
class DurationRange:
    """The durations a setting or flag accepts, in seconds, both ends included."""

    low: float
    high: float

    def describe(self) -> str:
        return f"{format_seconds(self.low)} to {format_seconds(self.high)}"


@dataclass(frozen=True)
class CountRange:
    """The whole numbers a setting or flag accepts (concurrency, rates), both ends included."""

    low: float
    high: float


def parse_seconds(value: Any, allowed: DurationRange | None = None) -> float:
    """Seconds from `90s`, `1h30m`, `500ms`, `7d` or a plain number of seconds.

    Raises BadValue naming the value and, for one out of `allowed`, the range."""
    if isinstance(value, bool):
        raise BadValue(f"'{value}' is not a duration; use {EXAMPLES}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                seconds = durationpy.from_str(text).total_seconds()
            except (durationpy.DurationError, ValueError, OverflowError) as err:
                if "out of range" in str(err):  # more days than a timedelta holds
                    seconds = math.inf
                else:
                    raise BadValue(f"'{text}' is not a duration; use {EXAMPLES}") from None
    if math.isnan(seconds):
        raise BadValue(f"'{value}' is not a duration; use {EXAMPLES}")
    if allowed is None and math.isinf(seconds):
        raise BadValue(f"'{value}' is too long a duration")
    if allowed is not None and not allowed.low <= seconds <= allowed.high:
        raise BadValue(f"'{value}' is out of range: use {allowed.describe()}")
    return seconds


def parse_duration(value: Any, allowed: DurationRange | None = None) -> timedelta:
    """`parse_seconds` as a timedelta."""
    return timedelta(seconds=parse_seconds(value, allowed))


def Seconds(allowed: DurationRange) -> Any:
    """A settings field type: a duration within `allowed`, stored as float seconds. The
    range rides along in the metadata, so tests can find every duration setting."""
    return Annotated[float, BeforeValidator(lambda v: parse_seconds(v, allowed)), allowed]


def parse_count(value: Any, allowed: CountRange, *, whole: bool = True) -> float:
    """A number within `allowed` (a whole one unless `whole` is False); BadValue
    (a ValueError) naming the value and the range otherwise."""
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        raise BadValue(f"'{value}' is not {kind}")
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise BadValue(f"'{value}' is not {kind}") from None
    if not math.isfinite(number) or (whole and number != int(number)):
        raise BadValue(f"'{value}' is not {kind}")
    if not allowed.low <= number <= allowed.high:
        raise BadValue(f"'{value}' is out of range: use {allowed.low:g} to {allowed.high:g}")
    return number


def Count(low: int, high: int) -> Any:
    """A settings field type: a whole number within [low, high]."""
    allowed = CountRange(low, high)
    return Annotated[int, BeforeValidator(lambda v: int(parse_count(v, allowed))), allowed]


_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?")


def parse_port(value: Any) -> int | str:
    """A port number 0..65535, or a Service port's name (IANA_SVC_NAME: up to 15 lowercase
    letters, digits and '-')."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        if _PORT_NAME.fullmatch(value.strip()) and any(c.isalpha() for c in value):
            return value.strip()
        raise BadValue(f"'{value}' is neither a port number nor a port name (e.g. 5432, http)")
    return int(parse_count(value, PORTS))


PORTS = CountRange(0, 65535)


def Port() -> Any:
    """A settings field type: a port number or name (see parse_port)."""
    return Annotated[int | str, BeforeValidator(parse_port), PORTS]


def Rate(low: float, high: float) -> Any:
    """A settings field type: a finite number within [low, high] (e.g. probes per second)."""
    allowed = CountRange(low, high)
    return Annotated[
        float, BeforeValidator(lambda v: parse_count(v, allowed, whole=False)), allowed
    ]
