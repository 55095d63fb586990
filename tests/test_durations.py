"""The one parser for durations and counts (ncconsole/durations.py): kubectl's syntax, plain
seconds, and a range that refuses a bad value before it reaches a library."""

from __future__ import annotations

import pytest

from ncconsole.durations import (
    BadValue,
    CountRange,
    DurationRange,
    format_seconds,
    parse_count,
    parse_seconds,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("10m", 600), ("1h30m", 5400), ("500ms", 0.5), ("2h", 7200),
        ("7d", 7 * 86400), ("1w", 604800), ("15", 15), ("0.25", 0.25), (" 2h ", 7200),
        (30, 30), (1.5, 1.5), ("1m30s", 90),
    ],
)  # fmt: skip
def test_kubectl_durations_and_plain_seconds(text, seconds):
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "soon", "5x", "h", "1.2.3s", "nan", "NaN", "1s2", True, "--5s", "1 h"]
)
def test_what_is_not_a_duration_says_so_with_examples(text):
    with pytest.raises(BadValue, match=r"is not a duration; use e\.g\. 90s, 10m"):
        parse_seconds(text)


@pytest.mark.parametrize(
    "text", ["99999999999999w", "1e400", "inf", "-inf", "-5s", "-5", "0", "2d"]
)
def test_out_of_range_never_overflows_and_names_the_range(text):
    with pytest.raises(BadValue, match=r"is out of range: use 100ms to 1d$"):
        parse_seconds(text, DurationRange(0.1, 86400))


def test_without_a_range_a_huge_duration_is_refused_not_overflowed():
    with pytest.raises(BadValue, match="too long"):
        parse_seconds("99999999999999w")


@pytest.mark.parametrize(
    ("value", "says"),
    [("0", "out of range: use 1 to 64"), ("65", "out of range"), ("2.5", "not a whole number"),
     ("x", "not a whole number"), ("inf", "not a whole number"), (True, "not a whole number")],
)  # fmt: skip
def test_counts(value, says):
    with pytest.raises(BadValue, match=says):
        parse_count(value, CountRange(1, 64))
    assert parse_count("8", CountRange(1, 64)) == 8


def test_durations_are_shown_back_the_same_way():
    assert [format_seconds(s) for s in (0.1, 90, 5400, 86400, 3650 * 86400)] == [
        "100ms", "1m30s", "1h30m", "1d", "3650d",
    ]  # fmt: skip
