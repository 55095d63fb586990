"""Argo CD's own Applications (../shared/fixtures/argocd-upstream, from argoproj/argo-cd at
3.6.0) parsed, judged and shown as the console does: revisions of multi- and single-source
apps, a busy operation, a ComparisonError with Healthy health, Suspended/Missing/Unknown."""

from __future__ import annotations

import pytest

from ncconsole.fleet.health import (
    app_findings,
    at_revision,
    autosync_undoes,
    combine,
    deployed_revision,
    sync_busy,
)
from ncconsole.fleet.model import Health
from ncconsole.kube.views import parse_app
from ncconsole.render.cells import revision_words
from tests.fixtures.argocd_upstream import load, upstream_files

A, B, C = "a" * 40, "b" * 40, "c" * 40


def app(name: str):
    return parse_app(load("applications", name))


def test_multi_source_result_has_only_revisions() -> None:
    """controller/appcontroller_test.go fakeMultiSourceApp: syncResult.revisions, one per
    source, and no revision."""
    view = app("02-multisource-fakeapp")
    assert view.multi_source and view.automated
    assert view.operation_revision == f"{A},{B},{C}"
    assert revision_words(view.operation_revision) == "aaaaaaa@bbbbbbb@ccccccc"
    assert view.target_revision == "HEAD,HEAD,HEAD"


def test_multi_source_history_and_sync_revisions() -> None:
    """apache/devlake#8810's history fragment: `revision` empty, `revisions` set."""
    view = app("14-multisource-history")
    head = "5dd95b4efd7e9b668c361bbddb8d7f1e56c32ac1"
    assert view.sync_revision == f"2.6.2,{head}"
    assert [entry.revision for entry in view.history] == [
        "2.6.1,1c0ffee0000000000000000000000000deadbeef",
        f"2.6.2,{head}",
    ]
    assert deployed_revision(view) == f"2.6.2,{head}"
    assert revision_words(view.sync_revision) == "2.6.2@5dd95b4"
    assert at_revision(view, f"2.6.2,{head}")
    assert not at_revision(view, f"2.6.1,{head}")  # the chart version counts as much
    assert combine(app_findings(view)) == (Health.HEALTHY, "")


def test_single_source_app_keeps_its_one_revision() -> None:
    view = app("15-single-source-succeeded")
    assert not view.multi_source and view.operation_revision == A
    assert revision_words(view.operation_revision) == "aaaaaaa"
    assert view.automated  # `automated: {}` is on
    assert autosync_undoes(view, B)  # an older revision would be synced straight back


def test_running_and_requested_operations_are_busy() -> None:
    assert sync_busy(app("03-operation-running")) == "a sync operation is Running"
    requested = app("07-operation-requested")
    assert sync_busy(requested).startswith("a sync operation is requested")


def test_comparison_error_with_healthy_health_is_a_problem() -> None:
    """argoproj/argo-cd#22124: sync Unknown, health Healthy, a ComparisonError condition."""
    view = app("10-comparison-error-healthy")
    assert view.health_status == "Healthy" and view.sync_status == "Unknown"
    health, reason = combine(app_findings(view))
    assert health is Health.FAILED
    assert reason.startswith("Argo CD ComparisonError: Failed to load target state")
    assert not at_revision(view, view.sync_revision or "x")


@pytest.mark.parametrize(
    ("name", "health"),
    [
        ("11-health-missing", Health.MISSING),
        ("12-health-suspended", Health.PROGRESSING),
        ("13-health-unknown", Health.UNKNOWN),
        ("05-degraded-conditions", Health.DEGRADED),
    ],
)
def test_every_health_code_is_judged(name: str, health: Health) -> None:
    assert combine(app_findings(app(name)))[0] is health


def test_every_upstream_application_parses() -> None:
    for path in upstream_files("applications"):
        view = parse_app(load("applications", path.name))
        assert view.name, path.name
