"""The audit trail when the state directory is broken (ops/audit.py's rule): a change is
refused before anything happens when its audit line could not be written; a recording
failure after the change is one warning and the change stands; readers skip and count the
lines they cannot use. The same for the smoke record and the console's occ history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.locations import audit_log_path, smoke_record_path
from ncconsole.ops.audit import load_audit, read_audit
from ncconsole.sim.apiserver.resources import EVENTS, SECRETS
from ncconsole.tui.ops_session import OccHistory
from tests.cli.test_ops_cli import create_alpha_secret, env  # noqa: F401
from tests.ops.conftest import OccCluster, _isolated_xdg, cluster  # noqa: F401

pytestmark = pytest.mark.timeout(30)


def secret_of(sim: OccCluster, namespace: str) -> dict | None:
    return sim.server.call(sim.server.store.try_get, SECRETS, namespace, "nextcloud-secrets")


def events(sim: OccCluster, namespace: str) -> list[dict]:
    return list(sim.server.call(sim.server.store.list, EVENTS, namespace))


def one_line(err: str, *needles: str) -> str:
    """Exactly one `ncconsole:` line (progress lines aside) holding every needle."""
    lines = [line for line in err.splitlines() if line.startswith("ncconsole:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def state_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state-file"
    state.write_text("not a directory\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


def test_a_change_is_refused_before_it_starts_when_it_cannot_be_audited(
    env: OccCluster,  # noqa: F811
    state_is_a_file: Path,
    capsys,
) -> None:
    assert run_guarded(cli, create_alpha_secret()) == 2
    out, err = capsys.readouterr()
    one_line(err, "not starting to secret.create nc-alpha/nextcloud-secrets", "nothing was changed")
    assert out == ""
    assert secret_of(env, "nc-alpha") is None  # nothing was created
    assert events(env, "nc-alpha") == []


def test_a_state_changing_occ_is_refused_too_but_a_read_runs_with_a_warning(
    env: OccCluster,  # noqa: F811
    state_is_a_file: Path,
    capsys,
) -> None:
    assert run_guarded(cli, ["occ", "alpha", "--yes", "--", "maintenance:mode", "--on"]) == 2
    one_line(capsys.readouterr().err, "not starting to occ nc-alpha", "cannot be written")
    assert not env.instances["nc-alpha"].maintenance
    assert run_guarded(cli, ["occ", "alpha", "--", "status"]) == 0
    out, err = capsys.readouterr()
    assert "installed: true" in out
    one_line(err, "ncconsole: warning: audit line for occ nc-alpha/", "not written to")


def test_a_recording_failure_after_the_change_is_a_warning_and_the_change_stands(
    env: OccCluster,  # noqa: F811
    capsys,
) -> None:
    # Writes to /dev/full fail with ENOSPC after the open succeeded: a disk that fills
    # between the check and the line.
    path = audit_log_path()
    path.parent.mkdir(parents=True)
    os.symlink("/dev/full", path)
    assert run_guarded(cli, create_alpha_secret()) == 0
    out, err = capsys.readouterr()
    assert "Created Secret nc-alpha/nextcloud-secrets" in out
    one_line(err, "ncconsole: warning: audit line for secret.create", "No space left on device")
    assert secret_of(env, "nc-alpha") is not None
    assert any("secret.create" in e["message"] for e in events(env, "nc-alpha"))


BAD_LINES = [
    "not json at all",
    "[1, 2, 3]",
    '"a string"',
    '{"action": "occ", "start": "2025-01-01T10:00:00", "who": {}}',  # no zone
    '{"action": "occ", "who": "root", "start": "2025-01-01T10:00:00+00:00"}',
    '{"action": "occ", "args": [1], "start": "2025-01-01T10:00:00+00:00"}',
    '{"action": "occ"}',
]


def test_bad_audit_lines_are_skipped_and_counted_never_fatal(capsys) -> None:
    path = audit_log_path()
    path.parent.mkdir(parents=True)
    good = {"action": "secret.create", "target": "nc-a/s", "result": "ok", "exit_code": 0,
            "who": {"os_user": "ann", "cluster_user": 7}, "start": "2099-01-01T10:00:00+00:00",
            "message": ["not", "a", "string"]}  # fmt: skip
    path.write_text("\n".join([*BAD_LINES, json.dumps(good), ""]))
    trail = load_audit()
    assert trail.entries == [good] and trail.skipped == len(BAD_LINES)
    assert read_audit(since=None) == [good]
    for args in (["audit"], ["audit", "--since", "1h"], ["audit", "--format", "json"]):
        assert run_guarded(cli, args) == 0, args
        out, err = capsys.readouterr()
        one_line(err, f"ncconsole: warning: {len(BAD_LINES)} unreadable lines in {path} skipped")
        assert "secret.create" in out


def test_smoke_record_entries_that_cannot_be_used_are_skipped_and_counted() -> None:
    path = smoke_record_path()
    path.parent.mkdir(parents=True)
    ok = {"passed": True, "checked_at": "2099-01-01T10:00:00+00:00", "revision": "r"}
    path.write_text(
        json.dumps(
            {
                "good": ok,
                "naive": {**ok, "checked_at": "2099-01-01T10:00:00"},
                "missing": {"passed": True},
                "reasons": {**ok, "reasons": "not a list"},
                "scalar": 5,
            }
        )
    )
    record = SmokeRecord()
    assert set(record.load()) == {"good"}
    assert record.problem == (
        f"smoke record {path}: 4 unreadable entries skipped; those tenants' last smoke results "
        "are unknown until their next smoke run"
    )


def test_occ_history_never_stops_a_command(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    history = OccHistory(blocked / "occ-history.json")
    assert history.add("tenant a", "status") is False
    assert history.problem.startswith(f"occ history not saved to {blocked}/occ-history.json (")
    assert history.entries("tenant a") == []
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"tenant a": "status", "tenant b": ["status", 5, "app:list"]}))
    history = OccHistory(odd)
    assert history.entries("tenant a") == [] and history.entries("tenant b") == [
        "status",
        "app:list",
    ]
    assert history.add("tenant a", "check") and history.entries("tenant a") == ["check"]
