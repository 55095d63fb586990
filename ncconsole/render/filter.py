"""The fleet filter (`/` in the console): the words the screen shows, and fields.

- Words: any part of what a row shows - name, health, reason, `out of sync`, `30.0.6`,
  `prod`, `wave 3`, `smoke fail`, `maintenance` - matched as one phrase, case-insensitively.
- Fields: `wave:3`, `version:30.0`, `env:prod`, `health:degraded`, `smoke:fail`,
  `sync:outofsync`, `s3:missing`, `name:gemeente`, `reason:crash`; a value with spaces in
  quotes (`reason:"exceeded its"`).
- `!` (or `-`) before a field or a word negates it: `!env:prod`, `-maintenance`.

Every term must hold. `describe` says what was asked for, for "no tenant matches …".
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ncconsole.fleet.model import TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome


@dataclass(frozen=True)
class Term:
    field: str  # "" for words
    value: str  # lower case
    negate: bool = False

    def __str__(self) -> str:
        value = f'"{self.value}"' if " " in self.value and self.field else self.value
        return ("!" if self.negate else "") + (f"{self.field}:{value}" if self.field else value)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote while typing: take the words as they are
        return text.split()


def parse_query(query: str) -> list[Term]:
    """Field terms as given; consecutive plain words joined into one phrase term."""
    terms: list[Term] = []
    phrase: list[str] = []

    def end_phrase() -> None:
        if phrase:
            terms.append(Term("", " ".join(phrase)))
            phrase.clear()

    for token in _words(query.lower()):
        negate = token[:1] in ("!", "-") and len(token) > 1
        body = token[1:] if negate else token
        field, colon, value = body.partition(":")
        if colon and field in FIELDS:
            end_phrase()
            terms.append(Term(field, value, negate))
        elif negate:
            end_phrase()
            terms.append(Term("", body, True))
        else:
            phrase.append(token)
    end_phrase()
    return terms


def describe(query: str) -> str:
    return " ".join(str(term) for term in parse_query(query))


def _smoke_word(smoke: SmokeOutcome | None) -> str:
    return smoke.result if smoke is not None else "none"


def _sync_word(tenant: TenantState) -> str:
    return tenant.app.sync_status.lower() if tenant.app is not None else "no app"


def _version(tenant: TenantState) -> str:
    web = tenant.web
    return ((web.versionstring or web.version or "") if web is not None else "").lower()


FIELDS: dict[str, Callable[[TenantState, SmokeOutcome | None, str], bool]] = {
    "wave": lambda t, s, v: str(t.wave if t.wave is not None else "none") == v,
    "version": lambda t, s, v: _version(t).startswith(v),
    "env": lambda t, s, v: t.environment.lower().startswith(v),
    "health": lambda t, s, v: t.health.value.startswith(v),
    "smoke": lambda t, s, v: _smoke_word(s).startswith(v),
    "sync": lambda t, s, v: _sync_word(t).startswith(v.replace(" ", "")),
    "s3": lambda t, s, v: (t.s3.state if t.s3 is not None else "pending").startswith(v),
    "name": lambda t, s, v: v in t.name.lower(),
    "reason": lambda t, s, v: v in t.reason.lower(),
}


def haystack(tenant: TenantState, smoke: SmokeOutcome | None) -> str:
    """What the row shows, in words, plus the names people type for them."""
    words = [tenant.name, tenant.health.value, tenant.reason, tenant.environment]
    words.append(f"wave {tenant.wave}" if tenant.wave is not None else "no wave")
    if tenant.app is not None:
        sync = tenant.app.sync_status
        words += [sync, "out of sync" if sync == "OutOfSync" else sync.lower()]
    version = _version(tenant)
    if version:
        words.append(version)
    if tenant.s3 is not None:
        words.append(f"s3 {tenant.s3.state}")
    if tenant.web is not None and tenant.web.maintenance:
        words.append("maintenance")
    words.extend(tenant.drift)
    words.append(f"smoke {_smoke_word(smoke)}")
    words.extend(f"alert {alert.name}" for alert in tenant.platform.firing)
    words.extend(tenant.platform.problems)  # "waiting for a PgBouncer connection", ...
    return " · ".join(words).lower()


def matches(tenant: TenantState, terms: list[Term], smoke: SmokeOutcome | None = None) -> bool:
    """Whether every term holds for the tenant."""
    shown: str | None = None
    for term in terms:
        if term.field:
            hit = FIELDS[term.field](tenant, smoke, term.value)
        else:
            shown = shown if shown is not None else haystack(tenant, smoke)
            hit = term.value in shown
        if hit == term.negate:
            return False
    return True
