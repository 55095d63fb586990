"""The fleet filter: the words the screen shows, fields, negation, and what it says when
nothing matches."""

from __future__ import annotations

from datetime import timedelta

from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.render.filter import Term, describe, parse_query
from ncconsole.render.fleet_rows import build_rows, tenant_of
from tests.fixtures.demo_fleet import FROZEN_NOW, OLD_REV, demo_snapshot


def shown(query: str, **snapshot: object) -> list[str]:
    rows = build_rows(demo_snapshot(**snapshot), FROZEN_NOW, query)  # type: ignore[arg-type]
    return [name for row in rows if (name := tenant_of(row.key))]


def test_words_as_the_screen_shows_them():
    assert shown("out of sync") == shown("outofsync") != []  # the words, or Argo CD's
    assert "canary" not in shown("out of sync")  # the canary is at the target
    assert shown("30.0.7") == ["canary"]  # a version as shown in VER
    assert shown("accept") == ["canary"]  # an environment
    assert shown("wave 3") == ["architect", "bibliotheek", "zorggroep"]
    assert shown("maintenance") == ["huisarts"]
    assert shown("CRASHLOOP") == ["notaris"]  # the reason, case-insensitively


def test_fields_and_negation():
    assert shown("wave:3") == ["architect", "bibliotheek", "zorggroep"]
    assert shown("wave:3 !health:missing") == ["architect", "bibliotheek"]
    assert shown("version:30.0.6 env:prod wave:1") == ["acme", "bakkerij", "gemeente-oost",
                                                       "huisarts"]  # fmt: skip
    assert shown("health:degraded") == ["notaris", "bibliotheek"]  # the bucket is missing
    assert shown("-env:prod") == ["canary"]
    assert shown("wave:2 -notaris") == ["kinderopvang", "sportclub", "tandarts"]
    failed = {"tandarts": SmokeOutcome(False, ("x",), FROZEN_NOW - timedelta(minutes=1), OLD_REV)}
    assert shown("smoke:fail", smoke=failed) == ["tandarts"]
    assert "tandarts" not in shown("smoke:none", smoke=failed)
    assert shown('reason:"crashloopbackoff (7"') == ["notaris"]


def test_parse_and_describe():
    assert parse_query("Out of  sync !env:prod wave:3") == [
        Term("", "out of sync"), Term("env", "prod", True), Term("wave", "3"),
    ]  # fmt: skip
    assert parse_query("foo:bar") == [Term("", "foo:bar")]  # not a field: a word
    assert describe("wave:9  degraded") == "wave:9 degraded"
    assert shown("wave:9") == []
