"""Misspelt and unknown settings are reported, never silently ignored (setting_names.py):
a warning naming the closest known name, and an error when that name is a safety setting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ncconsole.errors import ConfigError
from ncconsole.setting_names import (
    OTHER_PREFIXES,
    OTHER_VARIABLES,
    env_name,
    setting_paths,
    unknown_env_vars,
)
from ncconsole.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("NCCONSOLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xdg" / "ncconsole" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "var", ["NCCONSOLE_READONLY", "NCCONSOLE_READ-ONLY", "NCCONSOLE_RAED_ONLY"]
)
def test_a_misspelt_safety_setting_in_the_environment_stops_everything(var, monkeypatch):
    monkeypatch.setenv(var, "true")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"environment variable {var} is not a setting; did you mean ")
    assert "NCCONSOLE_READ_ONLY" in message and "safety setting" in message
    assert "\n" not in message and caught.value.exit_code == 2


@pytest.mark.parametrize("key", ["readonly", "read-only", "readOnly"])
def test_a_misspelt_safety_setting_in_the_file_stops_everything(key, tmp_path):
    path = write_config(tmp_path, f"{key}: true\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: '{key}' is not a setting;"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "says"),
    [
        ("NCCONSOLE_NAMESPACEPREFIX", "did you mean NCCONSOLE_NAMESPACE_PREFIX?"),
        ("NCCONSOLE_WEB__TIMOUT", "did you mean NCCONSOLE_WEB__TIMEOUT?"),
        ("NCCONSOLE_LABELS__COLOUR", "(known there: tenant, wave)"),
        ("NCCONSOLE_SOMETHING_ELSE", "is not a setting and is ignored"),
    ],
)
def test_an_unknown_variable_is_a_warning_naming_the_closest(var, says, monkeypatch):
    monkeypatch.setenv(var, "3")
    settings = load_settings()
    assert len(settings.warnings) == 1
    assert settings.warnings[0].startswith(f"environment variable {var} is not a setting")
    assert says in settings.warnings[0]
    assert settings.web.timeout == 5.0  # ignored, the default stands


def test_unknown_file_keys_are_warnings_and_the_rest_of_the_file_applies(tmp_path):
    path = write_config(
        tmp_path, "labels:\n  colour: red\n  wave: w\nweb:\n  timout: 3\nnamespace-prefix: x\n"
    )
    settings = load_settings()
    assert settings.labels.wave == "w"
    assert settings.warnings == (
        f"{path}: 'labels.colour' is not a setting and is ignored (known there: tenant, wave)",
        f"{path}: 'web.timout' is not a setting and is ignored; did you mean 'web.timeout'?",
        f"{path}: 'namespace-prefix' is not a setting and is ignored; did you mean "
        "'namespace_prefix'?",
    )


def test_known_variables_are_not_reported(monkeypatch):
    for path in setting_paths(Settings):
        assert unknown_env_vars(Settings, {env_name(path): "x"}) == []
    for var in [*OTHER_VARIABLES, "NCCONSOLE_KEYMAP__FILTER", "ncconsole_read_only"]:
        assert unknown_env_vars(Settings, {var: "x"}) == []


def test_every_ncconsole_variable_named_in_the_tree_is_known():
    """A variable the code, scripts or docs use must be a setting or listed as another known
    one - otherwise setting it would draw a warning."""
    known = {env_name(path) for path in setting_paths(Settings)} | set(OTHER_VARIABLES)
    named: set[str] = set()
    for folder in ("ncconsole", "scripts", "docs", "tests", "benchmarks"):
        for file in (ROOT / folder).rglob("*"):
            if file.suffix in (".py", ".sh", ".md", ".yaml") and file.is_file():
                named |= set(re.findall(r"NCCONSOLE_[A-Z0-9_]*[A-Z0-9]", file.read_text()))

    def test_server_variable(name: str) -> bool:
        return f"{name}_".startswith(OTHER_PREFIXES) and "__" not in name

    unknown = sorted(
        n for n in named if n not in known and not test_server_variable(n)
        # examples of misspellings in tests and docs
        and n not in {"NCCONSOLE_READONLY", "NCCONSOLE_RAED_ONLY", "NCCONSOLE_NAMESPACEPREFIX",
                      "NCCONSOLE_WEB__TIMOUT", "NCCONSOLE_LABELS__COLOUR",
                      "NCCONSOLE_SOMETHING_ELSE", "NCCONSOLE_KEYMAP__FILTER",
                          "NCCONSOLE_READ", "NCCONSOLE_X"}
    )  # fmt: skip
    assert unknown == []


def test_the_cli_prints_the_warning_and_refuses_the_safety_typo(tmp_path):
    env = {"PATH": os.environ["PATH"], "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    repo = tmp_path / "repo"
    (repo / "values" / "tenants").mkdir(parents=True)
    args = [sys.executable, "-m", "ncconsole", "tenants", "--repo", str(repo)]
    done = subprocess.run(
        args, capture_output=True, text=True, env={**env, "NCCONSOLE_WEB__TIMOUT": "3"}, timeout=60
    )
    assert "ncconsole: warning: environment variable NCCONSOLE_WEB__TIMOUT" in done.stderr
    done = subprocess.run(
        args, capture_output=True, text=True, env={**env, "NCCONSOLE_READONLY": "1"}, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("ncconsole: error: environment variable NCCONSOLE_READONLY")
    assert done.stderr.count("\n") == 1
