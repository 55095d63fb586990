"""`ncconsole --profile NAME ...` and `ncconsole --read-only ...` on the root command, as a
user types them (subprocess): they hold for every subcommand and for the console itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitops.repo_builder import tenant_yaml, write_repo

pytestmark = pytest.mark.timeout(60)

# A cluster nobody listens on: connecting builds a client without a request, so refusals that
# come before any API call are what these tests see.
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: accept-ctx, context: {cluster: c, user: u}},
           {name: prod-ctx, context: {cluster: c, user: u}}]
current-context: accept-ctx
"""


@pytest.fixture
def config(tmp_path: Path) -> dict[str, str]:
    write_repo(tmp_path / "accept", {"tenant-a1.yaml": tenant_yaml("a1", wave='"0"')})
    write_repo(
        tmp_path / "prod",
        {f"tenant-{n}.yaml": tenant_yaml(n, wave='"1"') for n in ("p1", "p2")},
    )
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    path = tmp_path / "config.yaml"
    path.write_text(
        "kubeconfig: kubeconfig\nprofile: accept\nprofiles:\n"
        "  accept: {context: accept-ctx, repo: accept}\n"
        "  prod: {context: prod-ctx, repo: prod, production: true}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")}
    env |= {
        "NCCONSOLE_CONFIG": str(path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    return env


def ncconsole(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        capture_output=True, text=True, env=env, timeout=45, check=False,
    )  # fmt: skip


def names(run: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(row["name"] for row in json.loads(run.stdout))


def test_profile_chooses_the_repo_of_every_command(config):
    assert names(ncconsole(config, "tenants", "--format", "json")) == ["a1"]
    prod = ncconsole(config, "--profile", "prod", "tenants", "--format", "json")
    assert prod.returncode == 0, prod.stderr
    assert names(prod) == ["p1", "p2"]
    env = dict(config, NCCONSOLE_PROFILE="prod")
    assert names(ncconsole(env, "tenants", "--format", "json")) == ["p1", "p2"]


def test_an_unknown_profile_is_one_line(config):
    run = ncconsole(config, "--profile", "staging", "tenants")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"ncconsole: error: {config['NCCONSOLE_CONFIG']}: no profile 'staging' "
        "(profiles: accept, prod); add it or pick one"
    ]


def test_read_only_on_the_root_command_refuses_changes_of_any_subcommand(config):
    rotate = ncconsole(config, "--read-only", "--profile", "prod", "secret", "rotate", "t1",
                       "nextcloud-password", "--yes")  # fmt: skip
    assert rotate.returncode == 2
    assert "read-only mode: refusing to rotate keys of Secret nc-t1/nextcloud-secrets" in (
        rotate.stderr
    )
    occ = ncconsole(config, "--read-only", "occ", "t1", "--", "maintenance:mode", "--on")
    assert occ.returncode == 2 and "read-only mode: occ maintenance:mode" in occ.stderr
    assert "--read-only" in ncconsole(config, "--help").stdout
