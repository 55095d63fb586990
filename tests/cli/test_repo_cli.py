"""validate / tenants / new-tenant as a user runs them: output, JSON shapes, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from tests.gitops.repo_builder import good_tenants, tenant_yaml, write_repo

TENANT_KEYS = ["wave", "name", "environment", "hostname", "bucket", "namespace", "application"]
FINDING_KEYS = {"file", "line", "rule", "severity", "tenant", "message"}


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("NCCONSOLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def run(capsys, *argv):
    code = run_guarded(cli, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def broken_repo(root):
    return write_repo(
        root,
        good_tenants(
            **{
                "tenant-beta.yaml": "tenant:\n  name: beta\n  wave: [1\n",
                "tenant-gamma.yaml": tenant_yaml("gamma", bucket="Bad_Bucket"),
                "old/tenant-zulu.yaml": tenant_yaml("zulu"),
            }
        ),
    )


def test_validate_clean_repo_exits_0(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", "--repo", str(write_repo(tmp_path)))
    assert code == 0
    assert out == "0 errors, 0 warnings in 4 tenant files\n"


def test_validate_reports_each_problem_with_file_and_line(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", "--repo", str(broken_repo(tmp_path)))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("values/tenants/old/tenant-zulu.yaml:1: warning tenant-file-in")
    assert lines[1].startswith("values/tenants/tenant-beta.yaml:3: error yaml-syntax: ")
    assert lines[2].startswith("values/tenants/tenant-gamma.yaml:7: error bucket-name-invalid: ")
    assert lines[3:] == ["2 errors, 1 warning in 4 tenant files"]


def test_validate_json_is_a_list_of_findings(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", "--repo", str(broken_repo(tmp_path)), "--format", "json")
    assert code == 1
    findings = json.loads(out)
    assert all(set(f) == FINDING_KEYS for f in findings)
    assert [(f["file"], f["line"], f["rule"], f["severity"], f["tenant"]) for f in findings] == [
        ("values/tenants/old/tenant-zulu.yaml", 1, "tenant-file-in-subfolder", "warning", "zulu"),
        ("values/tenants/tenant-beta.yaml", 3, "yaml-syntax", "error", "beta"),
        ("values/tenants/tenant-gamma.yaml", 7, "bucket-name-invalid", "error", "gamma"),
    ]


def test_validate_warnings_only_exit_0(tmp_path, capsys):
    repo = write_repo(tmp_path, good_tenants(**{"extra.yaml": tenant_yaml("extra")}))
    code, out, _ = run(capsys, "validate", "--repo", str(repo))
    assert code == 0
    assert out.splitlines()[-1] == "0 errors, 1 warning in 4 tenant files"


def test_validate_unreadable_repo_exits_2_with_one_line(tmp_path, capsys):
    code, out, err = run(capsys, "validate", "--repo", str(tmp_path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and str(tmp_path) in err and "values/tenants/" in err


def test_repo_from_environment_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NCCONSOLE_REPO", str(write_repo(tmp_path)))
    assert run(capsys, "validate")[0] == 0


def test_tenants_json_has_exactly_the_documented_keys_in_rollout_order(tmp_path, capsys):
    code, out, err = run(capsys, "tenants", "--repo", str(write_repo(tmp_path)), "--format", "json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert all(list(row) == TENANT_KEYS for row in rows)
    assert [(r["wave"], r["name"]) for r in rows] == [
        (0, "canary"),
        (1, "alpha"),
        (1, "beta"),
        (2, "gamma"),
    ]
    assert rows[1] == {
        "wave": 1,
        "name": "alpha",
        "environment": "prod",
        "hostname": "alpha.nextcloud.example.com",
        "bucket": "nextcloud-alpha",
        "namespace": "nc-alpha",
        "application": "nc-alpha",
    }


def test_tenants_names_follow_prefix_settings_and_wave_filter(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NCCONSOLE_NAMESPACE_PREFIX", "nextcloud-")
    monkeypatch.setenv("NCCONSOLE_APP_PREFIX", "tenant-")
    repo = str(write_repo(tmp_path))
    code, out, _ = run(capsys, "tenants", "--repo", repo, "--wave", "1", "--format", "json")
    assert code == 0
    assert [(r["namespace"], r["application"]) for r in json.loads(out)] == [
        ("nextcloud-alpha", "tenant-alpha"),
        ("nextcloud-beta", "tenant-beta"),
    ]


def test_tenants_table_shows_every_column_untruncated(tmp_path, capsys):
    code, out, _ = run(capsys, "tenants", "--repo", str(write_repo(tmp_path)))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [key.upper() for key in TENANT_KEYS]
    assert "canary" in lines[1] and lines[1].split()[-1] == "nc-canary"
    assert "gamma.nextcloud.example.com" in out


def test_tenants_with_broken_files_lists_the_rest_and_points_to_validate(tmp_path, capsys):
    repo = str(broken_repo(tmp_path))
    code, out, err = run(capsys, "tenants", "--repo", repo, "--format", "json")
    assert code == 0
    assert [r["name"] for r in json.loads(out)] == ["canary", "alpha", "gamma"]
    assert "ncconsole validate" in err


def test_new_tenant_writes_file_and_hints_next_steps(tmp_path, capsys):
    repo = write_repo(tmp_path)
    code, out, err = run(
        capsys, "new-tenant", "zulu", "--wave", "1", "--hostname", "zulu.example.com",
        "--repo", str(repo),
    )  # fmt: skip
    assert (code, err) == (0, "")
    path = repo / "values/tenants/tenant-zulu.yaml"
    assert f"wrote {path}" in out
    assert "ncconsole secret create zulu" in out
    assert run(capsys, "validate", "--repo", str(repo))[0] == 0


def test_new_tenant_rejected_writes_nothing_and_exits_1(tmp_path, capsys):
    repo = write_repo(tmp_path)
    code, _, err = run(
        capsys, "new-tenant", "zulu", "--wave", "1", "--hostname", "alpha.nextcloud.example.com",
        "--repo", str(repo),
    )  # fmt: skip
    assert code == 1
    assert not (repo / "values/tenants/tenant-zulu.yaml").exists()
    assert "duplicate-hostname" in err and "tenant-alpha.yaml:5" in err
    assert err.splitlines()[-1].startswith("ncconsole: error: values/tenants/tenant-zulu.yaml not")


def test_new_tenant_on_unreadable_repo_exits_2(tmp_path, capsys):
    code, _, err = run(
        capsys, "new-tenant", "zulu", "--wave", "0", "--hostname", "z.example.com",
        "--repo", str(tmp_path / "missing"),
    )  # fmt: skip
    assert code == 2 and "does not exist" in err


def test_real_entry_point_exit_codes(tmp_path):
    """`python -m ncconsole`, as a script would call it."""
    env = {"PATH": os.environ["PATH"], "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    good, bad = write_repo(tmp_path / "good"), broken_repo(tmp_path / "bad")
    codes = []
    for repo in (good, bad, tmp_path):
        done = subprocess.run(
            [sys.executable, "-m", "ncconsole", "validate", "--repo", str(repo)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert "Traceback" not in done.stdout + done.stderr
        codes.append(done.returncode)
    assert codes == [0, 1, 2]


def test_validate_lists_every_rule_id(capsys):
    from ncconsole.gitops import RULES

    code, out, _ = run(capsys, "validate", "--list-rules", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [item["rule"] for item in listed] == list(RULES)
    assert {item["severity"] for item in listed} == {"error", "warning"}
