"""A commit Argo CD cannot render: what the Applications and the ApplicationSet then say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ncconsole.sim.apiserver.resources import APPLICATIONS, APPLICATIONSETS
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
]


@pytest.fixture
def sim(tmp_path) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS), workdir=tmp_path) as running:
        yield running


def app(sim: Simulator, name: str) -> dict:
    return sim.call(sim.store.get, APPLICATIONS, "argocd", name)


def conditions(obj: dict) -> list[str]:
    return [c["type"] for c in (obj.get("status") or {}).get("conditions") or []]


def test_a_broken_tenant_file_is_a_comparison_error_for_that_tenant_only(sim: Simulator) -> None:
    path = "values/tenants/tenant-alpha.yaml"
    good = (sim.repo / path).read_text()
    sim.commit("Break alpha", {path: good + "nextcloud: [unclosed\n"})

    def alpha_broken() -> dict | None:
        a = app(sim, "nc-alpha")
        return a if a["status"]["sync"]["status"] == "Unknown" else None

    broken = wait_until(alpha_broken, what="nc-alpha in ComparisonError")
    assert conditions(broken) == ["ComparisonError"]
    assert "values/tenants/tenant-alpha.yaml" in broken["status"]["conditions"][0]["message"]
    assert app(sim, "nc-canary")["status"]["sync"]["status"] == "Synced"
    appset = sim.call(sim.store.get, APPLICATIONSETS, "argocd", "nextcloud-tenants")
    assert conditions(appset) == ["ErrorOccurred"]  # and no Application was deleted

    operation = {"initiatedBy": {"username": "ncconsole:t"}, "sync": {}}
    sim.call(sim.store.update, APPLICATIONS, "argocd", "nc-alpha",
             lambda a: {**a, "operation": operation})  # fmt: skip
    wait_until(
        lambda: (
            (app(sim, "nc-alpha")["status"].get("operationState") or {}).get("phase") == "Error"
        ),
        what="the sync to end in Error",
    )

    sim.commit("Fix alpha", {path: good})
    wait_until(lambda: app(sim, "nc-alpha")["status"]["sync"]["status"] == "Synced")
    assert conditions(app(sim, "nc-alpha")) == ["SyncError"]  # the failed attempt stays noted
    appset = sim.call(sim.store.get, APPLICATIONSETS, "argocd", "nextcloud-tenants")
    assert conditions(appset) == []


def test_a_broken_common_values_file_breaks_every_application(sim: Simulator) -> None:
    sim.commit("Break common", {"values/common.yaml": "chart:\n  version: [6.6.9\n"})
    wait_until(
        lambda: all(app(sim, n)["status"]["sync"]["status"] == "Unknown"
                    for n in ("nc-canary", "nc-alpha")),
        what="every Application in ComparisonError",
    )  # fmt: skip
