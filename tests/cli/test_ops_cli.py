"""`ncconsole secret|occ|audit` against the simulator: output, exit codes, refusals, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.ops.audit import read_audit
from ncconsole.sim.apiserver.resources import SECRETS
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.ops.conftest import OccCluster, _isolated_xdg, cluster  # noqa: F401

pytestmark = pytest.mark.timeout(30)


def create_alpha_secret(*flags: str) -> list[str]:
    """`secret create alpha` with `flags` and a throwaway pair of S3 keys."""
    return ["secret", "create", "alpha", *flags, "--s3-access-key", "A", "--s3-secret-key", "S"]


@pytest.fixture
def env(cluster: OccCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OccCluster:  # noqa: F811
    for name, wave in (("canary", 0), ("alpha", 1), ("beta", 1)):
        cluster.add(name, wave)
    repo = write_repo(
        tmp_path / "repo",
        {
            f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"')
            for n, w in (("canary", 0), ("alpha", 1), ("beta", 1))
        },
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"repo: {repo}\nkubeconfig: {cluster.kubeconfig}\n")
    monkeypatch.setenv("NCCONSOLE_CONFIG", str(config))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return cluster


def test_secret_create_then_refuse_overwrite(env: OccCluster, capsys) -> None:
    args = ["secret", "create", "alpha", "--s3-access-key", "AK", "--s3-secret-key", "very-secret"]
    assert run_guarded(cli, args) == 0
    out, err = capsys.readouterr()
    assert "Created Secret nc-alpha/nextcloud-secrets" in out and "very-secret" not in out + err
    assert run_guarded(cli, args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ncconsole secret rotate alpha" in err


def test_secret_create_missing_keys_and_namespace_without_yes(env: OccCluster, capsys) -> None:
    assert run_guarded(cli, ["secret", "create", "alpha"]) == 2
    assert "missing S3 keys" in capsys.readouterr().err
    code = run_guarded(
        cli,
        [
            "secret",
            "create",
            "newco",
            "--not-in-repo",
            "--s3-access-key",
            "A",
            "--s3-secret-key",
            "S",
        ],
    )
    assert code == 2 and "namespace nc-newco does not exist" in capsys.readouterr().err
    assert (
        run_guarded(
            cli,
            [
                "secret",
                "create",
                "newco",
                "--not-in-repo",
                "--s3-access-key",
                "A",
                "--s3-secret-key",
                "S",
                "--yes",
            ],
        )
        == 0
    )
    assert "Created namespace nc-newco" in capsys.readouterr().out


def test_secret_dry_run_shows_masked_object_and_stores_nothing(env: OccCluster, capsys) -> None:
    args = ["secret", "create", "alpha", "--dry-run", "--s3-access-key", "AK"]
    code = run_guarded(cli, [*args, "--s3-secret-key", "SK1"])
    out = capsys.readouterr().out
    assert code == 0 and "Dry run (server-side)" in out
    assert '"db-password": "********"' in out and "SK1" not in out
    assert (
        env.server.call(env.server.store.try_get, SECRETS, "nc-alpha", "nextcloud-secrets") is None
    )


def test_read_only_flag_refuses_secret_creation(env: OccCluster, capsys) -> None:
    code = run_guarded(cli, create_alpha_secret("--read-only"))
    assert code == 2 and "read-only mode" in capsys.readouterr().err


def test_secret_rotate(env: OccCluster, capsys, monkeypatch) -> None:
    assert run_guarded(cli, create_alpha_secret()) == 0
    assert run_guarded(cli, ["secret", "rotate", "alpha", "nextcloud-secret", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Rotated keys of Secret nc-alpha/nextcloud-secrets (nextcloud-secret)" in out
    assert "no restart needed" in out
    # S3 keys by flags (or the environment, as `create` takes them).
    args = ["secret", "rotate", "alpha", "s3-access-key", "s3-secret-key", "--yes"]
    assert run_guarded(cli, [*args, "--s3-access-key", "NEWKEY"]) == 2
    assert "--s3-secret-key (or NCCONSOLE_S3_SECRET_KEY)" in capsys.readouterr().err
    monkeypatch.setenv("NCCONSOLE_S3_SECRET_KEY", "from-env-secret")
    assert run_guarded(cli, [*args, "--s3-access-key", "NEWKEY"]) == 0
    out = capsys.readouterr().out
    assert "rollout restart" in out and "from-env-secret" not in out
    # db-password: refused in one line, then accepted once the server has the value.
    assert run_guarded(cli, ["secret", "rotate", "alpha", "db-password", "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--i-have-changed-the-server" in err
    monkeypatch.setenv("NCCONSOLE_DB_PASSWORD", "set-on-the-server")
    args = ["secret", "rotate", "alpha", "db-password", "--i-have-changed-the-server", "--yes"]
    assert run_guarded(cli, args) == 0
    assert "set-on-the-server" not in capsys.readouterr().out
    # nextcloud-password reaches Nextcloud as well.
    assert run_guarded(cli, ["secret", "rotate", "alpha", "nextcloud-password", "--yes"]) == 0
    assert "set in Nextcloud too" in capsys.readouterr().out
    assert list(env.instances["nc-alpha"].passwords) == ["admin"]


def test_occ_single_tenant_streams_and_exits_with_occs_code(env: OccCluster, capsys) -> None:
    assert run_guarded(cli, ["occ", "alpha", "--", "status"]) == 0
    assert "versionstring: 30.0.6" in capsys.readouterr().out
    env.instances["nc-alpha"].maintenance = True
    assert run_guarded(cli, ["occ", "alpha", "--", "status", "-e"]) == 1


def test_occ_mutating_needs_yes(env: OccCluster, capsys) -> None:
    assert run_guarded(cli, ["occ", "alpha", "--", "maintenance:mode", "--on"]) == 2
    assert "--yes" in capsys.readouterr().err and not env.instances["nc-alpha"].maintenance
    assert run_guarded(cli, ["occ", "alpha", "--yes", "--", "maintenance:mode", "--on"]) == 0
    assert env.instances["nc-alpha"].maintenance


def test_occ_wave_table_and_json(env: OccCluster, capsys) -> None:
    assert run_guarded(cli, ["occ", "--wave", "1", "--", "app:list", "--output=json"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "beta" in out and "canary" not in out and "TENANT" in out
    env.instances["nc-beta"].maintenance = True
    assert run_guarded(cli, ["occ", "--all", "--format", "json", "--", "status", "-e"]) == 1
    runs = {r["tenant"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(runs) == {"canary", "alpha", "beta"}
    assert runs["beta"]["exit_code"] == 1, runs["beta"]["error"]
    assert runs["alpha"]["exit_code"] == 0
    assert runs["beta"]["stdout"] == ""  # occ status -e writes nothing to stdout


def test_audit_lists_what_was_done(env: OccCluster, capsys) -> None:
    assert run_guarded(cli, ["occ", "alpha", "--", "status"]) == 0
    assert run_guarded(cli, create_alpha_secret("--read-only")) == 2
    capsys.readouterr()
    assert run_guarded(cli, ["audit", "--since", "1h"]) == 0
    out = capsys.readouterr().out
    assert "occ" in out and "secret.create" in out and "refused" in out
    assert run_guarded(cli, ["audit", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in entries] == ["occ", "secret.create"]
    assert run_guarded(cli, ["audit", "--since", "soon"]) == 2
    assert len(read_audit()) == 2


def test_occ_timeout_exits_124(env: OccCluster, capsys) -> None:
    env.delays["nc-alpha"] = 5.0
    assert run_guarded(cli, ["occ", "alpha", "--timeout", "0.5", "--", "status"]) == 124
    assert "occ timed out on tenant alpha" in capsys.readouterr().err


def test_cluster_flags_before_the_subcommand_reach_secret_create(
    env: OccCluster, monkeypatch, capsys
) -> None:
    monkeypatch.delenv("NCCONSOLE_CONFIG")
    args = [
        "--kubeconfig",
        str(env.kubeconfig),
        "secret",
        "create",
        "alpha",
        "--dry-run",
        "--not-in-repo",
    ]  # fmt: skip  (no repo without the config file)
    assert run_guarded(cli, [*args, "--s3-access-key", "A", "--s3-secret-key", "S"]) == 0
    assert "Dry run (server-side)" in capsys.readouterr().out
