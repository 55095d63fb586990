import json
import subprocess
import sys

import pytest
import yaml

from ncconsole.sim.platform_repo.repo import (
    DesiredVersion,
    PlatformRepoError,
    commit_change,
    desired_versions,
    head_revision,
    write_platform_repo,
)
from ncconsole.sim.scenario import Scenario, default_scenario, demo_scenario


def _git(repo, *args):
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_repo_has_the_platform_layout_and_one_commit(tmp_path):
    scenario = default_scenario(tenants=6, waves=2)
    head = write_platform_repo(scenario, tmp_path)
    for rel in [
        "argo/applicationsets/nextcloud-tenants.yaml",
        "argo/projects/nextcloud-platform.yaml",
        "platform/redis/redis.yaml",
        "platform/pgbouncer/pgbouncer.yaml",
        "platform/externalsecrets/clustersecretstore.yaml",
        "platform/policies/policies.yaml",
        "values/common.yaml",
        "values/env/test.yaml",
        "values/env/accept.yaml",
        "values/env/prod.yaml",
        "scripts/validate-values.sh",
        "docs/UPGRADE.md",
    ]:
        assert (tmp_path / rel).is_file(), rel
    assert (tmp_path / "scripts/smoke-checks.sh").stat().st_mode & 0o111
    assert _git(tmp_path, "log", "--format=%an|%s").splitlines() == [
        "ncconsole sim|Platform with 6 Nextcloud tenants"
    ]
    assert head == head_revision(tmp_path) and len(head) == 40
    assert _git(tmp_path, "status", "--porcelain") == ""


def test_tenant_file_has_the_seed_shape_with_a_quoted_wave(tmp_path):
    scenario = default_scenario(tenants=3, waves=1)
    write_platform_repo(scenario, tmp_path)
    tenant = scenario.tenants[1]
    text = (tmp_path / f"values/tenants/tenant-{tenant.name}.yaml").read_text()
    assert 'wave: "1"' in text
    data = yaml.safe_load(text)
    host = f"{tenant.name}.nextcloud.example.com"
    assert data == {
        "tenant": {
            "name": tenant.name,
            "environment": tenant.environment,
            "wave": "1",
            "hostname": host,
            "s3": {"bucket": f"nextcloud-{tenant.name}"},
        },
        "nextcloud": {"host": host, "trustedDomains": [host]},
        "ingress": {
            "tls": [{"secretName": f"nextcloud-{tenant.name}-tls", "hosts": [host]}],
            "hosts": [{"host": host, "paths": [{"path": "/", "pathType": "Prefix"}]}],
        },
    }


def test_applicationset_is_a_git_files_generator_with_tenant_and_wave_labels(tmp_path):
    write_platform_repo(default_scenario(tenants=4, waves=1), tmp_path)
    appset = yaml.safe_load((tmp_path / "argo/applicationsets/nextcloud-tenants.yaml").read_text())
    assert appset["kind"] == "ApplicationSet"
    files = appset["spec"]["generators"][0]["git"]["files"]
    assert files == [{"path": "values/tenants/*.yaml"}]
    labels = appset["spec"]["template"]["metadata"]["labels"]
    assert labels == {"tenant": "{{ .tenant.name }}", "wave": "{{ .tenant.wave }}"}
    assert "strategy" not in appset["spec"]
    chart = appset["spec"]["template"]["spec"]["sources"][0]
    assert chart["targetRevision"] == "6.6.4"


def test_rolling_sync_mode_writes_one_step_per_wave(tmp_path):
    scenario = default_scenario(tenants=8, waves=2, applicationset_mode="rolling_sync")
    write_platform_repo(scenario, tmp_path)
    appset = yaml.safe_load((tmp_path / "argo/applicationsets/nextcloud-tenants.yaml").read_text())
    strategy = appset["spec"]["strategy"]
    assert strategy["type"] == "RollingSync"
    steps = strategy["rollingSync"]["steps"]
    assert [s["matchExpressions"][0]["values"] for s in steps] == [["0"], ["1"], ["2"]]
    assert [s.get("maxUpdate") for s in steps] == [None, 0, 0]


def test_pending_upgrade_is_a_second_commit_that_desired_versions_sees(tmp_path):
    scenario = demo_scenario()
    head = write_platform_repo(scenario, tmp_path)
    log = _git(tmp_path, "log", "--format=%H %s").splitlines()
    assert len(log) == 2 and log[0].startswith(head)
    assert "30.0.8" in log[0]
    before = desired_versions(tmp_path, "HEAD~1")
    after = desired_versions(tmp_path, head)
    assert set(before) == {t.name for t in scenario.tenants}
    assert before["gemeente-leiden"] == DesiredVersion("6.6.4", "30.0.6-apache")
    assert after["gemeente-leiden"] == DesiredVersion("6.6.9", "30.0.8-apache")
    common = yaml.safe_load(_git(tmp_path, "show", f"{head}:values/common.yaml"))
    assert common["chart"]["version"] == "6.6.9"


def test_tenant_override_and_commit_change(tmp_path):
    scenario = Scenario.model_validate(
        {
            "tenants": [
                {"name": "canary", "wave": 0, "image_tag": "31.0.0-apache"},
                {"name": "zwolle", "wave": 1},
            ]
        }
    )
    first = write_platform_repo(scenario, tmp_path)
    assert desired_versions(tmp_path, first)["canary"].image_tag == "31.0.0-apache"
    assert desired_versions(tmp_path, first)["zwolle"].image_tag == "30.0.6-apache"
    text = (tmp_path / "values/tenants/tenant-zwolle.yaml").read_text()
    second = commit_change(
        tmp_path,
        "Pin zwolle to 30.0.7",
        {
            "values/tenants/tenant-zwolle.yaml": text + "image:\n  tag: 30.0.7-apache\n",
            "values/tenants/tenant-canary.yaml": None,
        },
    )
    assert second != first and head_revision(tmp_path) == second
    versions = desired_versions(tmp_path, second)
    assert versions == {"zwolle": DesiredVersion("6.6.4", "30.0.7-apache")}


def test_refuses_to_overwrite_an_existing_repo(tmp_path):
    write_platform_repo(default_scenario(tenants=2, waves=1), tmp_path)
    with pytest.raises(PlatformRepoError, match="already a git repository"):
        write_platform_repo(default_scenario(tenants=2, waves=1), tmp_path)


def test_unknown_revision_is_a_clear_error(tmp_path):
    write_platform_repo(default_scenario(tenants=2, waves=1), tmp_path)
    with pytest.raises(PlatformRepoError, match="git ls-tree failed"):
        desired_versions(tmp_path, "0" * 40)


@pytest.mark.timeout(60)
def test_two_thousand_tenants_are_written_and_read(tmp_path):
    """(How fast: benchmarks/sim_speed.py.)"""
    scenario = default_scenario(tenants=2000, waves=4)
    head = write_platform_repo(scenario, tmp_path)
    versions = desired_versions(tmp_path, head)
    assert len(versions) == 2000


@pytest.mark.parametrize(
    "scenario",
    [
        default_scenario(tenants=12, waves=3),
        default_scenario(tenants=12, waves=3, applicationset_mode="rolling_sync"),
        demo_scenario(),
    ],
    ids=["manual", "rolling_sync", "demo"],
)
def test_generated_repo_validates_clean(tmp_path, scenario):
    write_platform_repo(scenario, tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ncconsole",
            "validate",
            "--repo",
            str(tmp_path),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "no-config")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []


def test_head_revision_matches_git_after_each_commit(tmp_path):
    write_platform_repo(default_scenario(tenants=2, waves=1), tmp_path)
    assert head_revision(tmp_path) == _git(tmp_path, "rev-parse", "HEAD").strip()
    commit_change(tmp_path, "docs", {"docs/NOTES.md": "notes\n"})
    assert head_revision(tmp_path) == _git(tmp_path, "rev-parse", "HEAD").strip()
    _git(tmp_path, "pack-refs", "--all")
    assert head_revision(tmp_path) == _git(tmp_path, "rev-parse", "HEAD").strip()
