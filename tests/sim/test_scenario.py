import re

import pytest

from ncconsole.sim.names import tenant_names
from ncconsole.sim.scenario import (
    Scenario,
    ScenarioError,
    default_scenario,
    demo_scenario,
    load_scenario,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_default_scenario_has_one_canary_and_spreads_the_rest_over_waves():
    scenario = default_scenario(tenants=40, waves=3, seed=1)
    waves = [t.wave for t in scenario.tenants]
    assert waves.count(0) == 1
    assert scenario.tenants[0].wave == 0
    assert set(waves) == {0, 1, 2, 3}
    # rollouts grow: the first real wave is the smallest
    assert waves.count(1) < waves.count(3)
    assert {t.environment for t in scenario.tenants} <= {"test", "accept", "prod"}


def test_generated_names_hosts_and_buckets_are_unique_and_valid():
    scenario = default_scenario(tenants=2000, waves=5, seed=7)
    names = [t.name for t in scenario.tenants]
    assert len(set(names)) == 2000
    for tenant in scenario.tenants:
        assert DNS_LABEL.match(tenant.name) and len(f"nc-{tenant.name}") <= 63
        assert tenant.hostname == f"{tenant.name}.nextcloud.example.com"
        assert tenant.bucket == f"nextcloud-{tenant.name}" and len(tenant.bucket) <= 63
        assert tenant.replicas == 3


def test_names_are_realistic_and_repeatable():
    assert tenant_names(5, seed=3) == tenant_names(5, seed=3)
    assert tenant_names(5, seed=3) != tenant_names(5, seed=4)
    many = tenant_names(6000, seed=0)
    assert len(set(many)) == 6000
    assert "amsterdam" in tenant_names(400, seed=0)


def test_two_thousand_tenants_are_generated():
    """(How fast: benchmarks/sim_speed.py.)"""
    tenants = default_scenario(tenants=2000, waves=4).tenants
    assert len(tenants) == 2000 and {t.wave for t in tenants} == {0, 1, 2, 3, 4}


def test_demo_scenario_shape():
    demo = demo_scenario()
    assert len(demo.tenants) == 12
    assert demo.waves() == [0, 1, 2, 3]
    assert [t.name for t in demo.tenants if t.faults.stale_crashloop]
    assert [t.name for t in demo.tenants if t.faults.maintenance]
    assert demo.pending_upgrade is not None
    assert demo.pending_upgrade.chart_version != demo.release.chart_version
    assert demo.timings.pod_start > default_scenario().timings.pod_start


def test_rolling_steps_gate_every_wave_after_the_canary():
    scenario = default_scenario(tenants=10, waves=2, applicationset_mode="rolling_sync")
    steps = scenario.rolling_steps()
    assert [s.waves for s in steps] == [[0], [1], [2]]
    assert [s.max_update for s in steps] == [None, 0, 0]


def test_forbidden_namespaces_come_from_tenant_faults_and_users():
    scenario = Scenario.model_validate(
        {
            "rbac": {"users": [{"name": "admin", "forbidden_namespaces": ["kube-system"]}]},
            "tenants": [
                {"name": "a", "wave": 0},
                {"name": "b", "wave": 1, "faults": {"namespace_forbidden": True}},
            ],
        }
    )
    assert scenario.forbidden_namespaces(scenario.admin) == {"nc-b", "kube-system"}
    assert len(scenario.admin.token) >= 20


def test_load_scenario_from_yaml(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "release: {chart_version: 6.6.4, image_tag: 30.0.6-apache}\n"
        "api: {latency: 0.5, drop_watches_every: 30}\n"
        "tenants:\n"
        "  - {name: canary, wave: 0, environment: test}\n"
        "  - name: zwolle\n"
        "    wave: 1\n"
        "    faults: {statusphp_slow: 3, bucket_missing: true}\n"
    )
    scenario = load_scenario(path)
    zwolle = scenario.tenant("zwolle")
    assert zwolle.faults.statusphp_slow == 3 and zwolle.faults.bucket_missing
    assert scenario.api.drop_watches_every == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tenants:\n  - {name: Bad_Name, wave: 0}\n", "field 'tenants.0.name'"),
        ("tenants:\n  - {name: ok, wave: -1}\n", "(tenant 'ok')"),
        ("tenants:\n  - {name: ok, wave: 0, colour: red}\n", "tenants.0.colour"),
        ("tenants: [{name: a, wave: 0}, {name: a, wave: 1}]\n", "already used by tenant 'a'"),
        ("tenants: [{name: a, wave: 0, environment: staging}]\n", "environment 'staging'"),
        ("tenants: [unclosed\n", "scenario.yaml:2"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_bad_scenario_file_is_one_line_error_naming_file_and_field(tmp_path, text, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert expected in message


def test_missing_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_the_documented_example_scenario_loads(tmp_path):
    import ncconsole.sim.scenario as module

    example = module.__doc__.split("(every key optional except each tenant's name and wave):")[1]
    path = tmp_path / "scenario.yaml"
    path.write_text("\n".join(line[4:] for line in example.strip("\n").splitlines()))
    scenario = load_scenario(path)
    assert scenario.applicationset.mode == "rolling_sync"
    assert [s.max_update for s in scenario.rolling_steps()] == [None, 0]
    assert scenario.rbac.users[1].read_only
    assert scenario.tenant("zwolle").faults.degraded
