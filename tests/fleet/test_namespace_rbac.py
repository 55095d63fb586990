"""An engineer whose RBAC is namespace-scoped (RoleBindings in the tenant namespaces, no
ClusterRoleBinding) gets 403 on every list across namespaces (kubernetes
pkg/registry/rbac/validation/rule.go). The fleet then reads pods, Deployments and Events per
tenant namespace; a tenant whose namespace refuses even that is unknown - "no access to nc-x:
may not list pods" - never healthy with 0/0 pods, and `ncconsole status` exits 1 saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ncconsole.cli import cli
from ncconsole.fleet.model import Health, KindStatus
from ncconsole.fleet.state import FleetState
from ncconsole.kube.watch import WatchTiming
from ncconsole.render.access import access_lines
from ncconsole.sim.simulator import Simulator
from tests.ops.waves_helpers import sim_settings
from tests.sim.sim_helpers import scenario

pytestmark = pytest.mark.timeout(60)
FAST = WatchTiming(watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.3,
                   namespace_refresh=0.2)  # fmt: skip
TENANTS = [
    {"name": "alpha", "wave": 0, "replicas": 2},
    {"name": "beta", "wave": 1, "replicas": 1},
    {"name": "gamma", "wave": 1, "replicas": 1},
]
USERS = [
    {"name": "admin"},
    {"name": "engineer", "namespaces": ["nc-*", "argocd"]},
    # RoleBindings in two of the three tenant namespaces: nc-gamma stays unreadable.
    {"name": "partial", "namespaces": ["nc-alpha", "nc-beta", "argocd"]},
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(TENANTS, rbac={"users": USERS})
    with Simulator(spec, workdir=tmp_path_factory.mktemp("rbac")) as running:
        yield running


def fleet_as(sim: Simulator, user: str, tmp: Path) -> FleetState:
    kubeconfig = sim.write_kubeconfig(tmp / f"{user}.kubeconfig", user=user)
    state = FleetState(sim_settings(sim, kubeconfig=kubeconfig), timing=FAST, probes=False)
    state.start()
    return state


def test_namespace_scoped_engineer_reads_every_tenant_per_namespace(
    sim: Simulator, tmp_path: Path
) -> None:
    state = fleet_as(sim, "engineer", tmp_path)
    try:
        snapshot = state.wait_for(
            lambda s: s.complete and all(len(t.pods) == 2 if t.name == "alpha" else len(t.pods) == 1
                                         for t in s.tenants),
            20,
        )  # fmt: skip
        for kind in ("pods", "deployments", "events"):
            assert snapshot.kinds[kind].status is KindStatus.PER_NAMESPACE, kind
        assert snapshot.kinds["applications"].status is KindStatus.LIVE
        assert {t.name: t.health for t in snapshot.tenants} == dict.fromkeys(
            ("alpha", "beta", "gamma"), Health.HEALTHY
        )
        assert access_lines(snapshot)[0] == (
            "read per namespace (no cluster-wide list allowed): deployments, events, pods"
        )
        # A killed pod shows up through the namespace's own watch.
        old = snapshot.tenant("beta").pods[0].name
        sim.kill_pod("beta")
        state.wait_for(lambda s: old not in [p.name for p in s.tenant("beta").pods], 15)
    finally:
        state.stop()


def test_a_tenant_namespace_that_refuses_is_unknown_never_healthy(
    sim: Simulator, tmp_path: Path
) -> None:
    """The old console showed every tenant healthy with 0/0 pods for such a user."""
    state = fleet_as(sim, "partial", tmp_path)
    try:
        snapshot = state.wait_for(lambda s: s.complete and s.tenant("gamma") is not None, 20)
        gamma = snapshot.tenant("gamma")
        assert gamma.health is Health.UNKNOWN
        assert gamma.reason == "no access to nc-gamma: may not list pods or deployments"
        assert gamma.pods == ()
        assert snapshot.tenant("alpha").health is Health.HEALTHY
        lines = access_lines(snapshot)
        assert "no access in 1 tenant namespace(s): nc-gamma — shown as unknown" in lines
        # nc-platform (Redis, PgBouncer) and the cluster-scoped ClusterSecretStore too
        assert "not allowed to read: platform, secretstore (RBAC forbids it)" in lines
    finally:
        state.stop()


def test_status_exits_1_and_names_what_it_could_not_read(sim: Simulator, tmp_path: Path) -> None:
    kubeconfig = sim.write_kubeconfig(tmp_path / "partial.kubeconfig", user="partial")
    env = {"NCCONSOLE_CONFIG": str(sim.config_path), "XDG_STATE_HOME": str(tmp_path)}
    runner = CliRunner()
    table = runner.invoke(cli, ["status", "--kubeconfig", str(kubeconfig)], env=env)
    assert table.exit_code == 1, table.output
    assert (
        "warning: read per namespace (no cluster-wide list allowed): deployments, events, pods"
        in table.output
    )
    assert "warning: no access in 1 tenant namespace(s): nc-gamma" in table.output
    as_json = runner.invoke(
        cli, ["status", "--kubeconfig", str(kubeconfig), "--format", "json"], env=env
    )
    record = json.loads(as_json.output)
    assert as_json.exit_code == 1 and record["no_access_namespaces"] == ["nc-gamma"]
    assert record["kinds"]["pods"] == "per-namespace"
    gamma = next(t for t in record["tenants"] if t["name"] == "gamma")
    assert (gamma["health"], gamma["reason"]) == (
        "unknown",
        "no access to nc-gamma: may not list pods or deployments",
    )
