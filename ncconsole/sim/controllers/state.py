"""What the controllers share about the simulated platform beyond the stored objects: the
scenario, each tenant's Nextcloud instance and the faults switched on right now."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.scenario import NAMESPACE_PREFIX, Scenario, TenantSpec, Timings

ARGOCD_NAMESPACE = "argocd"
PLATFORM_NAMESPACE = "nc-platform"
APPLICATIONSET = "nextcloud-tenants"


@dataclass
class PlatformState:
    scenario: Scenario
    repo: Path
    tenants: dict[str, TenantSpec] = field(default_factory=dict)  # by name; grows with the repo
    instances: dict[str, NextcloudInstance] = field(default_factory=dict)  # by tenant name
    degraded: set[str] = field(default_factory=set)  # tenant names
    sync_fails: set[str] = field(default_factory=set)
    stale_crashloop: set[str] = field(default_factory=set)  # tenant names
    stale_pods: set[str] = field(default_factory=set)  # uids of the pods that stay crashing

    @property
    def timings(self) -> Timings:
        return self.scenario.timings

    def tenant_of_namespace(self, namespace: str) -> str | None:
        name = namespace.removeprefix(NAMESPACE_PREFIX)
        return name if name != namespace and name in self.instances else None


class Reconciler:
    """Runs `fn(key)` once soon after one or more `queue(key)` calls (a work queue)."""

    def __init__(self, fn: Callable[[tuple[str, str]], None], delay: float = 0.0) -> None:
        self._fn = fn
        self._delay = delay
        self._pending: set[tuple[str, str]] = set()

    def queue(self, key: tuple[str, str]) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        asyncio.get_running_loop().call_later(self._delay, self._run, key)

    def _run(self, key: tuple[str, str]) -> None:
        self._pending.discard(key)
        self._fn(key)
