"""Inputs checked on this machine before the API is asked (issue 18, class 8): tenant names
(one TENANT type for every command), tenants the repository does not list, ways of choosing
tenants that contradict each other, an empty repository, tenant files that are symlink loops,
and revisions neither the repository nor any Application knows."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import click
import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import TenantParam, run_guarded
from ncconsole.gitops.revisions import revision_problem
from ncconsole.sim.apiserver.resources import NAMESPACES
from tests.cli.test_every_option import PARAMS
from tests.cli.test_ops_cli import env  # noqa: F401
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.ops.conftest import OccCluster, _isolated_xdg, cluster  # noqa: F401

pytestmark = pytest.mark.timeout(60)

TENANT_PARAMS = [
    (path, param)
    for _, param, path in PARAMS
    if isinstance(param, click.Argument) and param.name in ("tenant", "tenants", "name")
]
# (A name starting with "-" is read by click as options, like `wave promote -1`.)
BAD_NAMES = ["alpha;rm -rf /", "Alpha", "alpha-", "a" * 64, "al pha", "$(id)", "ä", "a.b"]


def one_error_line(capsys) -> str:
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ncconsole: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_every_tenant_argument_is_checked_by_one_type() -> None:
    assert (
        len(TENANT_PARAMS) >= 7
    )  # secret create/rotate, rollback, smoke, logs, silence, new-tenant
    assert [
        f"{path} {p.name}" for path, p in TENANT_PARAMS if not isinstance(p.type, TenantParam)
    ] == []


@pytest.mark.parametrize(
    "command",
    [
        ["secret", "create", "{}"], ["secret", "rotate", "{}", "db-password"],
        ["rollback", "{}"], ["smoke", "{}"], ["occ", "{}", "--", "status"],
        ["new-tenant", "{}", "--wave", "1", "--hostname", "x.example.com"],
    ],
)  # fmt: skip
def test_a_bad_tenant_name_is_one_line_before_anything_runs(command, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    for name in BAD_NAMES:
        args = [word.replace("{}", name) for word in command]
        assert run_guarded(cli, args) == 2, args
        line = one_error_line(capsys)
        assert re.search(rf"(TENANT|TENANTS|NAME): '{re.escape(name)}' is not a tenant name", line)
        assert "DNS-1123 label" in line


def test_secret_create_for_a_tenant_not_in_the_repo_is_refused(env: OccCluster, capsys) -> None:  # noqa: F811
    args = ["secret", "create", "alhpa", "--s3-access-key", "A", "--s3-secret-key", "S", "--yes"]
    assert run_guarded(cli, args) == 2
    line = one_error_line(capsys)
    assert "tenant alhpa is not in" in line and "--not-in-repo" in line
    assert env.server.call(env.server.store.try_get, NAMESPACES, "", "nc-alhpa") is None
    assert run_guarded(cli, [*args, "--not-in-repo"]) == 0  # meant: created
    assert env.server.call(env.server.store.try_get, NAMESPACES, "", "nc-alhpa") is not None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["occ", "alpha", "--wave", "1", "--", "status"], "TENANT alpha and --wave/--all"),
        (["occ", "--wave", "1", "--all", "--", "status"], "--wave 1 and --all both choose"),
        (["occ", "alpha", "beta", "--", "status"], "occ runs on one TENANT, got alpha beta"),
        (["smoke", "alpha", "--wave", "1"], "TENANT (alpha) and --wave 1 both choose"),
        (["smoke", "--wave", "0", "--all"], "--wave 0 and --all both choose"),
        (["smoke", "--wave", "7"], "wave 7: no tenants in"),
    ],
)
def test_contradicting_choices_of_tenants_are_refused(args, says, capsys, tmp_path, monkeypatch):
    repo = write_repo(tmp_path / "repo", {"tenant-alpha.yaml": tenant_yaml("alpha", wave='"0"')})
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))  # never reached
    assert run_guarded(cli, [*args[:1], "--repo", str(repo), *args[1:]]) == 2
    assert says in one_error_line(capsys)


@pytest.mark.parametrize("args", [["occ", "--all", "--", "status"], ["smoke", "--all"]])
def test_an_empty_repository_says_so_instead_of_wave_none(args, capsys, tmp_path, monkeypatch):
    repo = write_repo(tmp_path / "repo", {})
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert run_guarded(cli, [*args[:1], "--repo", str(repo), *args[1:]]) == 2
    line = one_error_line(capsys)
    assert "the repository has no tenants" in line and "None" not in line


def test_symlink_loops_among_tenant_files_are_errors_not_skipped(tmp_path, capsys) -> None:
    repo = write_repo(tmp_path / "repo", {"tenant-alpha.yaml": tenant_yaml("alpha", wave='"0"')})
    tenants = repo / "values" / "tenants"
    os.symlink("tenant-loop-b.yaml", tenants / "tenant-loop-a.yaml")
    os.symlink("tenant-loop-a.yaml", tenants / "tenant-loop-b.yaml")
    os.symlink("gone.yaml", tenants / "tenant-dangling.yaml")
    assert run_guarded(cli, ["validate", "--repo", str(repo)]) == 1
    out = capsys.readouterr().out
    assert (
        "values/tenants/tenant-loop-a.yaml:1: error file-unreadable: cannot read file (Too" in out
    )
    assert "tenant-dangling.yaml:1: error file-unreadable" in out
    assert out.splitlines()[-1] == "3 errors, 0 warnings in 4 tenant files"


def git(repo: Path, *args: str) -> str:
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env={**os.environ, **who}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_revision_must_be_in_the_repo_or_known_to_an_application(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"tenant-alpha.yaml": tenant_yaml("alpha", wave='"0"')})
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD")
    assert revision_problem(repo, head, []) == ""
    assert revision_problem(repo, head[:8], []) == ""
    assert revision_problem(repo, "HEAD", []) == ""
    assert revision_problem(repo, "abc123", ["abc1234567"]) == ""  # an Application knows it
    assert revision_problem(repo, "deadbeef", []).startswith(
        f"revision 'deadbeef' is not in the repository {repo} and no Application knows it"
    )
    assert "is not a revision" in revision_problem(repo, "--output=/tmp/x", [])
    assert revision_problem(tmp_path, "deadbeef", []) == ""  # not a git checkout: not checkable
