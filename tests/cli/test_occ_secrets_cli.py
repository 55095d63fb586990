"""`ncconsole occ` with secrets: the issue's LDAP example leaves no value in the audit log,
and --arg-from-env hands occ a value that appears neither in argv nor in the log."""

from __future__ import annotations

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.locations import audit_log_path
from ncconsole.sim.apiserver.exec_ws import ExecRequest
from tests.cli.test_ops_cli import env  # noqa: F401
from tests.ops.conftest import OccCluster, _isolated_xdg, cluster  # noqa: F401

pytestmark = pytest.mark.timeout(30)
SECRET = "hunter2-LDAP-bind"


def test_a_positional_ldap_password_is_not_audited(env: OccCluster, capsys) -> None:  # noqa: F811
    args = ["occ", "alpha", "--yes", "--", "ldap:set-config", "s01", "ldapAgentPassword", SECRET]
    run_guarded(cli, args)
    capsys.readouterr()
    log = audit_log_path().read_text()
    assert "ldapAgentPassword" in log and SECRET not in log


def test_arg_from_env_reaches_occ_but_nothing_else(
    env: OccCluster,  # noqa: F811
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    answer = env.server.api.exec_handler

    async def recording(req: ExecRequest) -> int:
        seen.append(list(req.command))
        return await answer(req)

    env.server.api.exec_handler = recording
    monkeypatch.setenv("LDAP_PW", SECRET)
    args = ["occ", "alpha", "--yes", "--arg-from-env", "LDAP_PW", "--",
            "ldap:set-config", "s01", "ldapAgentPassword"]  # fmt: skip
    run_guarded(cli, args)
    out, err = capsys.readouterr()
    assert any(SECRET in " ".join(command) for command in seen)  # occ got it
    assert SECRET not in out + err
    log = audit_log_path().read_text()
    assert "ldapAgentPassword" in log and "********" in log and SECRET not in log


def test_arg_from_env_names_an_unset_variable(env: OccCluster, capsys, monkeypatch) -> None:  # noqa: F811
    monkeypatch.delenv("NOT_SET_PW", raising=False)
    assert run_guarded(cli, ["occ", "alpha", "--arg-from-env", "NOT_SET_PW", "--", "x"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "NOT_SET_PW is not set" in lines[0]
