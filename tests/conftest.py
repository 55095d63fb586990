"""For every test: ncconsole's cache (what it read from repos) goes to a temporary directory,
not the developer's ~/.cache (subprocesses inherit it too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        # The real control plane's binaries (scripts/realk8s.sh) stay where .ci/run built them.
        home_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        patch.setenv(
            "NCCONSOLE_REALK8S_CACHE",
            os.environ.get("NCCONSOLE_REALK8S_CACHE", f"{home_cache}/ncconsole-realk8s"),
        )
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield
