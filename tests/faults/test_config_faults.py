"""A kubeconfig that cannot be used: the CLI says so in one line naming the file and the
context, exits 2, prints no traceback - and the console refuses before taking the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import assert_one_line_error, run_cli, run_on_pty

pytestmark = pytest.mark.timeout(60)

VALID = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: admin
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: prod, user: admin}
current-context: prod
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "repo" / "values" / "tenants").mkdir(parents=True)
    return tmp_path / "repo"


def kubeconfig(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    return path


def test_unknown_context_names_it_and_the_known_ones(tmp_path: Path, repo: Path) -> None:
    path = kubeconfig(tmp_path, VALID)
    done = run_cli("status", "--kubeconfig", str(path), "--context", "staging", "--repo", str(repo))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, str(path), "context 'staging' not found", "known: prod")
    assert done.stdout == ""


def test_current_context_missing_from_the_file(tmp_path: Path, repo: Path) -> None:
    path = kubeconfig(tmp_path, VALID.replace("current-context: prod", "current-context: gone"))
    done = run_cli("status", "--kubeconfig", str(path), "--repo", str(repo))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, str(path), "current context 'gone' not found", "prod")


NO_NAME = VALID.replace("- name: prod\n  context", "- nom: prod\n  context")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("apiVersion: v1\nclusters: [\n  - name: x\n", "malformed", id="broken-yaml"),
        pytest.param("just a string\n", "malformed kubeconfig", id="not-a-mapping"),
        pytest.param(NO_NAME, "current context 'prod' not found", id="context-without-name"),
        pytest.param(
            VALID.replace('{server: "https://127.0.0.1:1"}', "[]"),
            "no cluster server URL",
            id="cluster-without-server",
        ),
        pytest.param(VALID.replace("  user: {token: abc}\n", "  user: 42\n"), "", id="user-number"),
        pytest.param("\x00\xff binary", "malformed kubeconfig", id="binary"),
    ],
)
def test_malformed_kubeconfig_is_one_line_exit_2(
    tmp_path: Path, repo: Path, text: str, says: str
) -> None:
    path = kubeconfig(tmp_path, text)
    done = run_cli("status", "--kubeconfig", str(path), "--repo", str(repo))
    assert done.returncode == 2, done.stderr
    assert_one_line_error(done.stderr, f"ncconsole: error: {path}: ", says)


def test_context_flag_works_when_current_context_is_dangling(tmp_path: Path, repo: Path) -> None:
    """kubectl --context prod works with a current-context naming nothing; so do we: the
    command gets as far as the (unreachable) cluster."""
    path = kubeconfig(tmp_path, VALID.replace("current-context: prod", "current-context: gone"))
    done = run_cli("status", "--kubeconfig", str(path), "--context", "prod", "--repo", str(repo))
    assert "not found" not in done.stderr and "malformed" not in done.stderr
    assert_one_line_error(done.stderr, "127.0.0.1:1")


def test_missing_kubeconfig_says_how_to_pass_one(tmp_path: Path, repo: Path) -> None:
    path = tmp_path / "nope"
    done = run_cli("status", "--kubeconfig", str(path), "--repo", str(repo))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, str(path), "kubeconfig not found", "--kubeconfig")


def test_console_refuses_a_malformed_kubeconfig_before_taking_the_screen(
    tmp_path: Path, repo: Path
) -> None:
    path = kubeconfig(tmp_path, "apiVersion: v1\nclusters: [\n")
    code, output = run_on_pty("--kubeconfig", str(path), "--repo", str(repo))
    assert code == 2
    assert_one_line_error(output, str(path), "malformed kubeconfig")
    assert "\x1b[?1049h" not in output  # the alternate screen was never entered
