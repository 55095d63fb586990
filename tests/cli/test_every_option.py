"""Every numeric flag and argument of every command is parsed by one of two ranged types
(DurationParam, CountParam in cli/options.py), so no value reaches a library unchecked; and
every bad value, of any flag, is one line naming the flag, exit 2, before anything runs."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import click
import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import CountParam, DurationParam, PathParam, run_guarded, usage_problem

NUMERIC_NAME = re.compile(r"timeout|since|interval|concurrency|wave|port|tenants|pid|to_id|rate")


def every_param() -> Iterator[tuple[click.Command, click.Parameter, str]]:
    def walk(
        command: click.Command, path: str
    ) -> Iterator[tuple[click.Command, click.Parameter, str]]:
        for param in command.params:
            yield command, param, path
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")

    yield from walk(cli, "ncconsole")


PARAMS = list(every_param())
RANGED = [
    pytest.param(command, param, path, id=f"{path} {param.name}")
    for command, param, path in PARAMS
    if isinstance(param.type, DurationParam | CountParam)
]


def test_every_numeric_parameter_has_a_ranged_type() -> None:
    unranged = [
        f"{path} {param.name} ({param.type})"
        for _, param, path in PARAMS
        if (
            isinstance(param.type, click.types.IntParamType | click.types.FloatParamType)
            or (NUMERIC_NAME.search(param.name or "") and param.nargs == 1)
        )
        and not isinstance(param.type, DurationParam | CountParam)
    ]
    assert unranged == []
    assert len(RANGED) >= 15  # the walk found the commands


def bad_values(param: click.Parameter) -> list[str]:
    allowed = param.type.allowed  # type: ignore[attr-defined]
    values = ["soon", "nan", "inf", "-inf", "1e400", "", str(allowed.high * 10 + 1)]
    if isinstance(param.type, CountParam):
        values += [str(allowed.low - 1), "2.5"]
    else:
        values += ["99999999999999w", "-5", "-5s"]
        if allowed.low > 0:
            values.append(f"{allowed.low / 2:g}")
    return values


@pytest.mark.parametrize(("command", "param", "path"), RANGED)
def test_every_bad_value_is_one_line_naming_the_parameter(command, param, path) -> None:
    ctx = click.Context(command, info_name=path)
    for value in bad_values(param):
        with pytest.raises(click.BadParameter) as caught:
            param.type.convert(value, param, ctx)
        line = usage_problem(caught.value)
        assert "\n" not in line and "Traceback" not in line
        name = max(param.opts, key=len) if isinstance(param, click.Option) else param.name.upper()
        assert line.startswith((f"option {name}:", f"{name}:")), line
        assert f"'{value}'" in line and f"`{path} --help`" in line, line


@pytest.mark.parametrize(("command", "param", "path"), RANGED)
def test_every_default_and_range_end_is_accepted(command, param, path) -> None:
    ctx = click.Context(command, info_name=path)
    allowed = param.type.allowed
    for value in (allowed.low, allowed.high, param.default):
        if isinstance(value, int | float | str) and not (
            isinstance(value, float) and math.isnan(value)
        ):
            param.type.convert(value, param, ctx)


HUGE = "99999999999999w"  # overflowed timedelta before
TIMEOUT_OUT = "option --timeout: '{}' is out of range"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["occ", "alpha", "--timeout", "-5", "--", "status"], TIMEOUT_OUT.format("-5")),
        (["occ", "alpha", "--timeout", "0", "--", "status"], TIMEOUT_OUT.format("0")),
        (["occ", "--wave", "0", "--concurrency", "0", "--", "status"], "option --concurrency: '0'"),
        (["audit", "--since", HUGE], f"option --since: '{HUGE}' is out of range"),
        (["wave", "promote", "1", "--timeout", HUGE], TIMEOUT_OUT.format(HUGE)),
        (["wave", "promote", "-1"], "WAVE: '-1' is out of range: use 0 to 9999"),
        (["status", "--wave", "-1"], "option --wave: '-1' is out of range"),
        (["smoke", "--all", "--concurrency", "1e9"], "option --concurrency: '1e9' is out of range"),
        (["secret", "create", "alpha", "--timeout", "soon"], "option --timeout: 'soon' is not a"),
    ],
)  # fmt: skip
def test_the_reported_examples_refuse_before_anything_runs(
    args, says, capsys, tmp_path, monkeypatch
):
    # No cluster and no repo: a refusal here can only come from parsing the flags.
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert run_guarded(cli, args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ncconsole: error: ") and says in lines[0], err


def test_every_path_parameter_refuses_an_empty_path() -> None:
    """`--workdir ''` was read as the current directory; every path flag uses PathParam."""
    paths = [(p, path) for _, p, path in PARAMS if isinstance(p.type, click.Path)]
    assert (
        paths
        and [f"{path} {p.name}" for p, path in paths if not isinstance(p.type, PathParam)] == []
    )
    for param, path in paths:
        ctx = click.Context(click.Command(path), info_name=path)
        for value in ("", "  "):
            with pytest.raises(click.BadParameter, match="is empty"):
                param.type.convert(value, param, ctx)
