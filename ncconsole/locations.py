"""Where ncconsole keeps its files: every path in one module.

Config is read from `$XDG_CONFIG_HOME/ncconsole/config.yaml` (or the file `NCCONSOLE_CONFIG`
names); what the console writes — the audit log, the smoke record, the occ history, crash
traces, demo work directories — lives in `$XDG_STATE_HOME/ncconsole/`; what it may lose at
any time (what it read from the repo's tenant files) in `$XDG_CACHE_HOME/ncconsole/`. Tests
and users move all of it with those variables; nothing else in the code spells a path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal

CONFIG_ENV = "NCCONSOLE_CONFIG"


def xdg_dir(kind: Literal["config", "state", "cache"]) -> Path:
    var, default = {
        "config": ("XDG_CONFIG_HOME", "~/.config"),
        "state": ("XDG_STATE_HOME", "~/.local/state"),
        "cache": ("XDG_CACHE_HOME", "~/.cache"),
    }[kind]
    return Path(os.environ.get(var) or default).expanduser() / "ncconsole"


def state_dir() -> Path:
    return xdg_dir("state")


def config_file_path() -> Path:
    """The config file: `NCCONSOLE_CONFIG`, else `$XDG_CONFIG_HOME/ncconsole/config.yaml`."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override).expanduser() if override else xdg_dir("config") / "config.yaml"


def config_file_named() -> bool:
    """Whether the user named the config file (then a missing one is an error)."""
    return CONFIG_ENV in os.environ


def audit_log_path() -> Path:
    """One JSON line per action done from this machine."""
    return state_dir() / "audit.jsonl"


def smoke_record_path() -> Path:
    """The last smoke result per tenant (read by the promotion gates and the SMOKE column)."""
    return state_dir() / "smoke-results.json"


def occ_history_path() -> Path:
    """occ commands typed in the console, per tenant or wave."""
    return state_dir() / "occ-history.json"


def crash_log_path() -> Path:
    """Traces of exceptions the console caught from a screen (shown as one line there)."""
    return state_dir() / "crash.log"


def desired_cache_path(repo: Path) -> Path:
    """What the console last read from `repo`'s tenant files, per file (fleet/desired.py)."""
    key = hashlib.sha256(str(Path(repo).expanduser().resolve()).encode()).hexdigest()[:16]
    return xdg_dir("cache") / "desired" / f"{key}.json"


def demo_workdir_parent() -> Path:
    """Where `ncconsole demo` puts its simulator's files when not given --workdir."""
    return state_dir()
