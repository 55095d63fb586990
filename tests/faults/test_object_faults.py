"""Argo CD Applications that are not what the console expects - no status at all, fields of
the wrong type, health and sync words it does not know, conditions by the megabyte - are
parsed, joined and rendered without an error: unknown things read "unknown", the rest of the
fleet is untouched and the console keeps answering keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ncconsole.fleet.model import FleetSnapshot, Health
from ncconsole.fleet.state import FleetState
from ncconsole.kube.views import parse_app
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.resources import APPLICATIONS, NAMESPACES
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.tui.app import make_app
from ncconsole.tui.screens.tenant import TenantScreen
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.panes import Pane, argo_view
from tests.cluster_objects import add_tenant, app
from tests.faults.conftest import FAST, assert_keys_answered_while, wait_ui
from tests.gitops.repo_builder import tenant_yaml, write_repo
from tests.tui.conftest import plain

pytestmark = pytest.mark.timeout(60)
CONDITIONS = 200
CONDITION_BYTES = 10_000  # 2 MB of conditions on one Application


def with_status(tenant: str, status: Any, **extra: Any) -> dict[str, Any]:
    obj = app(tenant, 1)
    if status is None:
        obj.pop("status")
    else:
        obj["status"] = status
    return obj | extra


def huge_conditions() -> list[dict[str, str]]:
    return [
        {
            "type": "ComparisonError",
            "message": f"#{i} Failed to load target state: " + "manifest " * (CONDITION_BYTES // 9),
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        for i in range(CONDITIONS)
    ]


ODD_APPS: dict[str, dict[str, Any]] = {
    "bare": with_status("bare", None),
    "empty": with_status("empty", {}),
    "wrongtypes": with_status(
        "wrongtypes",
        {
            "sync": "Synced",
            "health": ["Healthy"],
            "history": {"id": 1},
            "conditions": "many",
            "operationState": {"phase": 3, "startedAt": "yesterday"},
            "summary": {"images": None},
        },
    ),
    "unknownwords": with_status(
        "unknownwords",
        {"sync": {"status": "Sideways"}, "health": {"status": "Exploding", "message": "boom"}},
    ),
    "huge": with_status(
        "huge",
        {
            "sync": {"status": "OutOfSync"},
            "health": {"status": "Healthy"},
            "conditions": huge_conditions(),
        },
    ),
}
NORMAL = ("canary",)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as server:
        server.call(server.store.create, NAMESPACES, {"metadata": {"name": "argocd"}})
        add_tenant(server, "canary", 0)
        for name, obj in ODD_APPS.items():
            add_tenant(server, name, 1, with_app=False)
            server.call(server.store.create, APPLICATIONS, obj)
        yield server


@pytest.fixture(scope="module")
def settings(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("console")
    files = {f"tenant-{n}.yaml": tenant_yaml(n, wave='"1"') for n in ODD_APPS}
    files["tenant-canary.yaml"] = tenant_yaml("canary", wave='"0"')
    repo = write_repo(tmp / "repo", files)
    return Settings(kubeconfig=sim.write_kubeconfig(tmp / "kubeconfig"), repo=repo)


@pytest.fixture(scope="module")
def snapshot(settings: Settings) -> FleetSnapshot:
    state = FleetState(settings, timing=FAST, probes=False)
    state.start()
    try:
        return state.wait_for(lambda s: s.complete and len(s.tenants) == 6, 15)
    finally:
        state.stop()


@pytest.mark.parametrize("name", list(ODD_APPS))
def test_views_parse_every_odd_application(name: str) -> None:
    view = parse_app(ODD_APPS[name])
    assert view.name == f"nc-{name}"
    assert view.health_status in ("Unknown", "Healthy")
    assert view.sync_status in ("Unknown", "OutOfSync")


def test_missing_status_fields_read_as_unknown(snapshot: FleetSnapshot) -> None:
    for name in ("bare", "empty", "wrongtypes"):
        tenant = snapshot.tenant(name)
        assert tenant is not None and tenant.app is not None
        assert (tenant.health, tenant.reason) == (Health.UNKNOWN, "Argo CD health unknown")
        assert tenant.app.sync_status == "Unknown" and tenant.app.history == ()
    wrong = snapshot.tenant("wrongtypes")
    assert wrong is not None and wrong.app is not None
    assert wrong.app.operation_phase == "" and wrong.app.operation_started is None


def test_unknown_health_and_sync_words_read_as_unknown(snapshot: FleetSnapshot) -> None:
    tenant = snapshot.tenant("unknownwords")
    assert tenant is not None and tenant.app is not None
    assert (tenant.app.health_status, tenant.app.sync_status) == ("Unknown", "Unknown")
    assert tenant.app.health_message == "boom"  # the message is kept for the detail screen
    assert tenant.health is Health.UNKNOWN
    canary = snapshot.tenant("canary")
    assert canary is not None and canary.health is Health.HEALTHY  # the others are untouched


def test_huge_conditions_are_kept_and_rendered_as_a_screenful(snapshot: FleetSnapshot) -> None:
    tenant = snapshot.tenant("huge")
    assert tenant is not None and tenant.app is not None
    assert len(tenant.app.conditions) == CONDITIONS
    text = plain(argo_view(tenant, snapshot.taken_at))
    assert "ComparisonError" in text
    assert len(text) < 20_000  # a screenful, not megabytes


async def test_console_renders_odd_applications_and_keeps_answering(settings: Settings) -> None:
    console = make_app(FleetState(settings, timing=FAST, probes=False), settings)
    async with console.run_test(size=(140, 30)) as pilot:
        table = console.screen.query_one(FleetTable)

        def health(name: str) -> str:
            return table.get_cell(f"tenant:{name}", "health").plain

        await wait_ui(pilot, lambda: len(table.row_keys) == 8, 15)  # 2 wave lines + 6 tenants
        await wait_ui(pilot, lambda: console.snapshot is not None and console.snapshot.complete)
        await wait_ui(pilot, lambda: health("canary") == "✔ healthy")
        unknown = {name: health(name) for name in ODD_APPS if name != "huge"}
        assert unknown == dict.fromkeys(unknown, "? unknown")
        # 200 ComparisonErrors: a problem although Argo CD's health says Healthy (issue 11)
        assert health("huge") == "✖ failed"
        for name in ("wrongtypes", "unknownwords", "bare", "huge"):
            console.open_tenant(name)
            await wait_ui(pilot, lambda name=name: "application" in argo_text(console, name))
        assert "… 195 more" in argo_text(console, "huge")
        # Keys keep answering on the detail of the 2 MB Application, across refresh ticks.
        body = console.screen.query_one("#tenant-body")
        detail = console.screen
        await assert_keys_answered_while(
            pilot, body, "scroll_y", lambda: console.screen is detail, presses=12
        )
        await pilot.press("escape")
        await wait_ui(pilot, lambda: not isinstance(console.screen, TenantScreen))


def argo_text(console: Any, tenant: str) -> str:
    """What the Argo CD pane of `tenant`'s detail screen reads ("" until it is shown)."""
    screen = console.screen
    if not isinstance(screen, TenantScreen) or screen.tenant_name != tenant:
        return ""
    panes = screen.query("#argo")
    return plain(panes.first(Pane).content) if panes else ""
