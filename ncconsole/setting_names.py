"""Which settings exist, so a misspelt one is reported instead of silently ignored.

`NCCONSOLE_READONLY=true` (for `NCCONSOLE_READ_ONLY`) used to be ignored, and a Secret was
then rotated. Every `NCCONSOLE_*` variable and every config-file key is checked against the
settings model: an unknown one is a warning naming the closest known name, and is dropped;
one whose closest known name is a safety setting (`read_only`) is an error, because running
without the protection the user asked for is worse than not running.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, get_origin

from pydantic import BaseModel

ENV_PREFIX = "NCCONSOLE_"
# Settings whose misspelling must stop the console rather than be ignored.
SAFETY_SETTINGS = frozenset({"read_only"})
# Variables read outside the settings model (and a prefix for the test Ceph scripts).
OTHER_VARIABLES = {
    "NCCONSOLE_CONFIG": "the config file to read",
    "NCCONSOLE_S3_ACCESS_KEY": "a tenant's S3 access key for `secret create`",
    "NCCONSOLE_S3_SECRET_KEY": "a tenant's S3 secret key for `secret create`",
    "NCCONSOLE_DB_PASSWORD": "the new db-password for `secret rotate`",
    "NCCONSOLE_REDIS_PASSWORD": "the new redis-password for `secret rotate`",
    "NCCONSOLE_SIM_S3_ACCESS_KEY": "the simulator's external S3 access key",
    "NCCONSOLE_SIM_S3_SECRET_KEY": "the simulator's external S3 secret key",
}
# The test servers' scripts (rgw-up.sh, platform-servers.sh, realk8s.sh) and their tests.
# A name with `__` is never one of them: that is a nested setting, checked as such.
OTHER_PREFIXES = (
    "NCCONSOLE_RGW_", "NCCONSOLE_REALK8S", "NCCONSOLE_PLATFORM_", "NCCONSOLE_PGBOUNCER_",
    "NCCONSOLE_POSTGRES_", "NCCONSOLE_REDIS_", "NCCONSOLE_ALERTMANAGER_",
)  # fmt: skip


@dataclass(frozen=True)
class UnknownName:
    """A name given by the user that no setting has."""

    where: str  # "environment variable NCCONSOLE_X" or "<file>: 'a.b'"
    name: str
    closest: str  # the nearest known name, as the user would spell it, or ""
    safety: bool  # the closest known name is a safety setting
    siblings: str = ""  # when nothing is close: the known names beside it

    def message(self) -> str:
        if self.closest:
            hint = f"; did you mean {self.closest}?"
        else:
            hint = f" (known there: {self.siblings})" if self.siblings else ""
        if self.safety:
            return (
                f"{self.where} is not a setting{hint} {self.closest} is a safety setting, so "
                "ncconsole does not run while its name is misspelt; fix the name"
            )
        return f"{self.where} is not a setting and is ignored{hint}"


def setting_paths(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every setting as a path of field names, sections included: ("web",), ("web", "timeout")."""
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        yield path
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from setting_paths(annotation, path)


def _free_form(model: type[BaseModel], path: tuple[str, ...]) -> bool:
    """Whether the setting at `path` takes any keys below it (a mapping such as keymap)."""
    current: Any = model
    for part in path:
        info = current.model_fields.get(part)
        if info is None:
            return False
        current = info.annotation
    return get_origin(current) is dict or current is dict


def env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "__".join(part.upper() for part in path)


def _closest(name: str, known: list[str], prefix: str = "") -> str:
    """The known name nearest to `name` (both start with `prefix`, which is not compared)."""
    squeeze = {k.replace("_", "").replace("-", "").lower(): k for k in known}
    plain = name.replace("_", "").replace("-", "").lower()
    if plain in squeeze:  # READONLY for READ_ONLY, read-only for read_only
        return squeeze[plain]
    stems = {k[len(prefix) :].lower(): k for k in known}
    found = difflib.get_close_matches(name[len(prefix) :].lower(), list(stems), n=1, cutoff=0.75)
    return stems[found[0]] if found else ""


def _siblings(model: type[BaseModel], parent: tuple[str, ...]) -> str:
    """The setting names inside section `parent` ("" at the top level or for no section)."""
    section = _section_model(model, parent) if parent else None
    return ", ".join(section.model_fields) if section else ""


def unknown_env_vars(model: type[BaseModel], environ: Mapping[str, str]) -> list[UnknownName]:
    """NCCONSOLE_* variables that name no setting and no other known variable."""
    paths = list(setting_paths(model))
    known = {env_name(path): path for path in paths}
    candidates = sorted(known) + sorted(OTHER_VARIABLES)
    out = []
    for var in sorted(environ):
        upper = var.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper in OTHER_VARIABLES:
            continue
        if upper.startswith(OTHER_PREFIXES) and "__" not in upper:
            continue
        parts = tuple(upper[len(ENV_PREFIX) :].lower().split("__"))
        if any(_free_form(model, parts[:depth]) for depth in range(1, len(parts))):
            continue  # NCCONSOLE_KEYMAP__FILTER: a key of a mapping setting
        closest = _closest(upper, candidates, ENV_PREFIX)
        path = known.get(closest, ())
        safety = bool(path) and path[-1] in SAFETY_SETTINGS
        siblings = _siblings(model, parts[:-1])
        out.append(UnknownName(f"environment variable {var}", var, closest, safety, siblings))
    return out


def unknown_file_keys(
    model: type[BaseModel], data: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], list[UnknownName]]:
    """`data` without the keys no setting has, and those keys. Values of known keys are left
    for the model to check (a section given as a scalar is the model's error to report)."""
    paths = {".".join(path): path for path in setting_paths(model)}
    found: list[UnknownName] = []

    def prune(section: Mapping[str, Any], prefix: tuple[str, ...]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in section.items():
            path = (*prefix, str(key))
            dotted = ".".join(path)
            if dotted not in paths:
                closest = _closest(dotted, sorted(paths))
                safety = bool(closest) and paths[closest][-1] in SAFETY_SETTINGS
                hint = f"'{closest}'" if closest else ""
                siblings = _siblings(model, prefix)
                found.append(UnknownName(f"{where}: '{dotted}'", dotted, hint, safety, siblings))
                continue
            sub = _section_model(model, path)
            kept[key] = prune(value, path) if sub and isinstance(value, Mapping) else value
        return kept

    return prune(data, ()), found


def _section_model(model: type[BaseModel], path: tuple[str, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return None
        current = fields[part].annotation
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
