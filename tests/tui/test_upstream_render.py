"""Argo CD's own Applications (../shared/fixtures/argocd-upstream) render in the fleet row
and the tenant detail's Argo CD pane with their revisions as chart version @ short commit (or
the short commit of a single-source app) and their state judged as fleet/health judges it."""

from __future__ import annotations

from datetime import UTC, datetime

from ncconsole.fleet.health import app_findings, combine
from ncconsole.kube.views import parse_app
from ncconsole.render.fleet_rows import fitted_cells, reason_text
from ncconsole.tui.widgets.panes import argo_view
from tests.fixtures.argocd_upstream import load, upstream_files
from tests.fixtures.demo_fleet import repo_tenant

from .conftest import plain

NOW = datetime(2026, 3, 20, tzinfo=UTC)


def tenant_of(name: str):
    app = parse_app(load("applications", name))
    health, reason = combine(app_findings(app))
    return repo_tenant("fixture", 1, app=app, health=health, reason=reason)


def test_every_upstream_application_renders() -> None:
    for path in upstream_files("applications"):
        tenant = tenant_of(path.name)
        row = " ".join(cell.plain for cell in fitted_cells(tenant, NOW))
        pane = plain(argo_view(tenant, NOW))
        assert row and "application" in pane, path.name
        assert reason_text(tenant).plain == tenant.reason, path.name


def test_revisions_and_problems_read_as_people_expect() -> None:
    history = plain(argo_view(tenant_of("14-multisource-history"), NOW))
    assert "runs 2.6.2@5dd95b4 · Git 2.6.2@5dd95b4" in history
    assert "sync #40     2.6.1@1c0ffee" in history
    single = plain(argo_view(tenant_of("15-single-source-succeeded"), NOW))
    assert "runs aaaaaaa" in single and "auto-sync" in single
    broken = tenant_of("10-comparison-error-healthy")
    assert reason_text(broken).plain.startswith("Argo CD ComparisonError: Failed to load target")
    assert "✖ failed" in " ".join(cell.plain for cell in fitted_cells(broken, NOW))
