"""The shared smoke record: atomic writes that keep other tenants' results, a cached reader
that notices another process's writes, and a corrupt file read as empty with one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord, SmokeResults
from ncconsole.ops.smoke import CheckResult, SmokeReport

AT = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


def test_outcome_from_report_counts_fail_and_warn_but_not_ignored_checks() -> None:
    report = SmokeReport(
        "acme",
        [
            CheckResult("argocd", "fail", "OutOfSync, Degraded", 0.1),
            CheckResult("pods", "warn", "3 restarts in the past", 0.1),
            CheckResult("tls", "skip", "unreachable", 0.0),
        ],
        revision="abc123",
        finished=AT,
    )
    failed = report.outcome()
    assert (failed.passed, failed.result, failed.revision) == (False, "fail", "abc123")
    assert failed.reasons == ("argocd: OutOfSync, Degraded",)
    after_rollback = report.outcome(ignore=("argocd",))
    assert after_rollback.passed and after_rollback.result == "warn"
    assert after_rollback.checked_at == AT


def test_saves_keep_other_tenants_and_leave_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "state" / "smoke-results.json"
    SmokeRecord(path).save("acme", SmokeOutcome(True, checked_at=AT, revision="r1"))
    # Another writer (another process) adds its tenants to the same file.
    SmokeRecord(path).save_many(
        {"bakkerij": SmokeOutcome(False, ("pods: no pods",), AT, "r1", "fail")}
    )
    loaded = SmokeRecord(path).load()
    assert loaded["acme"] == SmokeOutcome(True, (), AT, "r1", "pass")
    assert loaded["bakkerij"].reasons == ("pods: no pods",) and not loaded["bakkerij"].passed
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".smoke-results.lock",
        "smoke-results.json",
    ]
    # A record written before the status field existed still reads.
    path.write_text('{"acme": {"passed": false, "checked_at": "2026-03-04T03:00:00+00:00"}}')
    assert SmokeRecord(path).load()["acme"].result == "fail"


def test_corrupt_or_missing_file_reads_as_empty_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "smoke-results.json"
    record = SmokeRecord(path)
    assert record.load() == {} and record.problem == ""
    path.write_text('{"acme": {"passed": tr')
    assert record.load() == {}
    assert record.problem.startswith(f"smoke record {path} is unreadable (")
    assert "\n" not in record.problem
    path.write_text('["not", "a", "mapping"]')
    assert record.load() == {} and "not a JSON object" in record.problem
    record.save("acme", SmokeOutcome(True, checked_at=AT))  # replaces the broken file
    assert record.load()["acme"].passed and record.problem == ""


def test_unwritable_record_is_a_problem_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    record = SmokeRecord(blocker / "ncconsole" / "smoke-results.json")
    record.save("acme", SmokeOutcome(True, checked_at=AT))
    assert record.problem.startswith(f"cannot write smoke record {record.path} (")
    assert "\n" not in record.problem


def test_cached_view_sees_another_writer_only_when_rechecking(tmp_path: Path) -> None:
    path = tmp_path / "smoke-results.json"
    view = SmokeResults(SmokeRecord(path), recheck=3600.0)
    assert view.current() == {}
    SmokeRecord(path).save("acme", SmokeOutcome(True, checked_at=AT))
    assert view.current() == {}  # not stat'ed again before `recheck` seconds
    view.reload()
    first = view.current()
    assert first["acme"].passed
    assert view.current() is first  # unchanged file: the same dict, no re-read
    view.put({"bakkerij": SmokeOutcome(False, checked_at=AT + timedelta(minutes=1))})
    assert set(view.current()) == {"acme", "bakkerij"} and view.current() is not first


def test_the_gate_counts_the_smoke_outcome_the_tenant_carries() -> None:
    """FleetState joins only this cluster's outcomes (tests/fleet/test_fleet.py): a pass on
    accept never reaches prod's tenants, so the gate sees none there."""
    from ncconsole.ops.promotion.gates import wave_overview
    from ncconsole.settings import Settings
    from tests.fixtures.demo_fleet import FROZEN_NOW, demo_snapshot

    snapshot = demo_snapshot()
    canary = next(t for t in snapshot.tenants if t.wave == 0)
    revision = wave_overview(snapshot, Settings(), None).target_revision

    def canary_row(smoke: dict[str, SmokeOutcome]):
        overview = wave_overview(
            demo_snapshot(smoke=smoke), Settings(), None, smoke_max_age=timedelta(days=3650)
        )
        return next(t for t in overview.wave(0).tenants if t.tenant == canary.name)

    outcome = SmokeOutcome(True, (), FROZEN_NOW, revision, "pass", snapshot.cluster)
    assert canary_row({canary.name: outcome}).smoke_fresh
    assert not canary_row({}).smoke_fresh
