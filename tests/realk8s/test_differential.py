"""The simulator checked against a real kube-apiserver: one script, both servers, same answers.

Status codes, Status reasons and causes, the keys present in objects and lists, Table columns
and watch event sequences must match, except for the differences listed with their reasons in
differences.py. New simulator behaviour must pass this test.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import yaml

from ncconsole.sim.scenario import Scenario, UserSpec
from ncconsole.sim.simulator import Simulator
from tests.realk8s.cluster import RealCluster, wait_until
from tests.realk8s.differences import ACCEPTED, IGNORED_KEYS
from tests.realk8s.differential import Observation, Target, run_script, steps

USERS = ("admin", "viewer", "engineer")


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    scenario = Scenario.model_validate(
        {
            "tenants": [{"name": "diffseed", "wave": 0, "replicas": 1}],
            "rbac": {
                "users": [
                    UserSpec(name="admin"),
                    # The simulator's models of the built-in `view` role and of an engineer
                    # with RoleBindings only, as tests/realk8s/manifests/30-rbac.yaml binds them.
                    UserSpec(name="viewer", read_only=True),
                    UserSpec(name="engineer", namespaces=["nc-*", "argocd"]),
                ]
            },
        }
    )
    with Simulator(scenario, workdir=tmp_path_factory.mktemp("diffsim")) as sim:
        yield sim


def sim_target(sim: Simulator) -> Target:
    server = yaml.safe_load(sim.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    tokens = {user.name: user.token for user in sim.scenario.rbac.users}
    return Target("simulator", server, sim.ca_file, tokens)


def real_target(cluster: RealCluster) -> Target:
    return Target("real", cluster.server, cluster.ca_file, dict(cluster._tokens))


def make_namespace(target: Target, ns: str, real: bool) -> None:
    with target.client("admin") as admin:
        answer = admin.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
        assert answer.status_code == 201, answer.text
        if real:  # the engineer's only rights: a RoleBinding to `admin` in the tenant namespace
            answer = admin.post(
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
                json={
                    "metadata": {"name": "engineer-admin"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "admin",
                    },
                    "subjects": [
                        {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "User",
                            "name": "engineer",
                        }
                    ],
                },
            )
            assert answer.status_code == 201, answer.text
            # Pods are refused until kube-controller-manager made the `default` ServiceAccount.
            wait_until(
                lambda: admin.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default").is_success,
                30,
                f"the default ServiceAccount in {ns}",
            )


def without_ignored(seen: Observation) -> Observation:
    """The observation without the keys no answer is compared on (differences.IGNORED_KEYS)."""
    meta = tuple(k for k in seen.meta if f"metadata.{k}" not in IGNORED_KEYS)
    keys = tuple(k for k in seen.keys if k not in IGNORED_KEYS)
    if not meta and seen.kind == "SelfSubjectAccessReview":
        keys = tuple(k for k in keys if k != "metadata")  # it held only managedFields
    items = tuple(k for k in seen.item_keys if k not in IGNORED_KEYS)
    return replace(seen, keys=keys, meta=meta, item_keys=items)


def compare(sim: dict[str, Observation], real: dict[str, Observation]) -> dict[str, list[str]]:
    found = {}
    for name, expected in real.items():
        differences = without_ignored(expected).differences(without_ignored(sim[name]))
        if differences:
            found[name] = differences
    return found


def test_the_simulator_answers_like_the_real_apiserver(
    simulator: Simulator, real_cluster: RealCluster, tmp_path: Path
) -> None:
    run = secrets.token_hex(3)
    ns = f"nc-diff-{run}"
    targets = (sim_target(simulator), real_target(real_cluster))
    seen = {}
    # "Too old" is relative to the apiserver's watch cache, which starts when the apiserver
    # does: on a fresh cluster that is revision ~1, so RV 1 would still be served. Compact and
    # restart, as a cluster that has run a while looks, before the script's objects.
    real_cluster.compact_etcd()
    real_cluster.restart_apiserver()
    for target in targets:
        make_namespace(target, ns, real=target.name == "real")
        seen[target.name] = run_script(target, steps(ns, run), {})
    found = compare(seen["simulator"], seen["real"])
    report = {
        name: {
            "real": asdict(seen["real"][name]),
            "simulator": asdict(seen["simulator"][name]),
            "differences": found.get(name, []),
            "accepted": ACCEPTED.get(name),
        }
        for name in seen["real"]
    }
    (tmp_path / "differential.json").write_text(json.dumps(report, indent=1, default=str))
    unexpected = {name: diffs for name, diffs in found.items() if name not in ACCEPTED}
    gone = sorted(set(ACCEPTED) - set(found))
    lines = [f"report: {tmp_path / 'differential.json'}"]
    for name, diffs in unexpected.items():
        lines.append(f"NEW {name}: real vs simulator: " + "; ".join(diffs))
        lines.append(f"    real: {seen['real'][name].message[:160]}")
        lines.append(f"    sim:  {seen['simulator'][name].message[:160]}")
    lines += [f"GONE (delete from differences.py): {name}" for name in gone]
    assert not unexpected and not gone, "\n".join(lines)
