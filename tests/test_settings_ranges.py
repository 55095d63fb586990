"""Every number in the settings — durations, counts, rates — declares its range (through
ncconsole/durations.py), and a value out of it, from the environment or the config file, is
one line naming the variable or the file and setting: nothing reaches a library unchecked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from ncconsole.durations import PORTS, CountRange, DurationRange
from ncconsole.errors import ConfigError
from ncconsole.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("NCCONSOLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def numeric_settings(
    model: type[BaseModel] = Settings, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(path, annotation, range or None) for every int/float leaf of the settings."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from numeric_settings(annotation, (*path, name))
        elif annotation in (int, float) or {int, float} & set(get_args(annotation)):
            found = [m for m in info.metadata if isinstance(m, DurationRange | CountRange)]
            yield (*path, name), annotation, found[0] if found else None


NUMBERS = list(numeric_settings())
RANGED = [pytest.param(path, rng, id=".".join(path)) for path, _, rng in NUMBERS if rng]


def test_every_number_in_the_settings_declares_its_range():
    assert [".".join(path) for path, _, rng in NUMBERS if rng is None] == []
    assert len(NUMBERS) >= 10


def bad_values(rng: DurationRange | CountRange) -> list[str]:
    if rng is PORTS:  # a number or a port name: "soon" is a fine name
        return ["-1", "65536", "Not_A_Name!", "2.5", "a-name-far-too-long"]
    values = ["nan", "inf", "-inf", "1e400", "soon", "-1", str(rng.high * 10 + 1)]
    if rng.low > 0:
        values.append("0")
    if isinstance(rng, DurationRange):
        values += ["99999999999999w", "-5s"]
    return values


@pytest.mark.parametrize(("path", "rng"), RANGED)
def test_a_bad_environment_value_names_the_variable(path, rng, monkeypatch):
    var = "NCCONSOLE_" + "__".join(p.upper() for p in path)
    for value in bad_values(rng):
        monkeypatch.setenv(var, value)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        message = str(caught.value)
        assert message.startswith(f"environment variable {var}: '{value}' is "), message
        assert "\n" not in message and caught.value.exit_code == 2
    monkeypatch.delenv(var)


@pytest.mark.parametrize(("path", "rng"), RANGED)
def test_a_bad_config_file_value_names_the_file_and_setting(path, rng, tmp_path):
    config = tmp_path / "xdg" / "ncconsole" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    *sections, leaf = path
    for value in bad_values(rng):
        indent = "".join(f"{'  ' * i}{s}:\n" for i, s in enumerate(sections))
        config.write_text(f"{indent}{'  ' * len(sections)}{leaf}: '{value}'\n")
        with pytest.raises(ConfigError) as caught:
            load_settings()
        message = str(caught.value)
        assert message.startswith(f"{config}: setting '{'.'.join(path)}': '{value}' is "), message


@pytest.mark.parametrize(("path", "rng"), RANGED)
def test_the_range_ends_and_defaults_are_accepted(path, rng, monkeypatch):
    var = "NCCONSOLE_" + "__".join(p.upper() for p in path)
    for value in (rng.low, rng.high):
        monkeypatch.setenv(var, f"{value:g}")
        load_settings()


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("NCCONSOLE_OCC__TIMEOUT", "0", "'0' is out of range: use 100ms to 1d"),
        ("NCCONSOLE_WEB__TIMEOUT", "-1", "'-1' is out of range: use 100ms to 5m"),
        ("NCCONSOLE_OCC__CONCURRENCY", "0", "'0' is out of range: use 1 to 64"),
    ],
)
def test_the_reported_examples(var, value, says, monkeypatch):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=f"^environment variable {var}: {says}; fix or unset"):
        load_settings()


def test_durations_in_settings_take_kubectl_syntax(monkeypatch):
    monkeypatch.setenv("NCCONSOLE_OCC__TIMEOUT", "1h30m")
    monkeypatch.setenv("NCCONSOLE_WEB__INTERVAL", "500ms")
    settings = load_settings()
    assert (settings.occ.timeout, settings.web.interval) == (5400.0, 0.5)
