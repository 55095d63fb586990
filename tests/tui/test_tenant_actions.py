"""The tenant screen's views and fixes on a simulated platform, driven by keys: describe/YAML
(Secret values never shown), all events, restart (a new ReplicaSet, the stale crash loop
over), delete a pod (replaced), sync (the wave order asked about), terminate, hard refresh,
history and rollback with the diff in the question, copy; read-only and RBAC refusals come
before any question."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, Static

from ncconsole.ops.audit import read_audit
from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, PODS
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.copy import CopyScreen
from ncconsole.tui.screens.diff import DiffScreen
from ncconsole.tui.screens.events import EventsScreen
from ncconsole.tui.screens.history import HistoryScreen
from ncconsole.tui.screens.inspect import ObjectScreen
from ncconsole.tui.screens.tenant import TenantScreen
from tests.ops.waves_helpers import UPGRADE
from tests.sim.sim_helpers import scenario, wait_until

from .conftest import plain, wait_for
from .live_console import console

pytestmark = pytest.mark.timeout(120)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "crashy", "wave": 1, "replicas": 2, "faults": {"stale_crashloop": True}},
    {"name": "steady", "wave": 1, "replicas": 2},
]


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(scenario(TENANTS, pending_upgrade=UPGRADE), workdir=tmp_path / "sim") as s:
        yield s


async def open_tenant(pilot, app, tenant: str) -> TenantScreen:
    await wait_for(pilot, lambda: app.screen.select_tenant(tenant), timeout=15)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen))
    screen = app.screen
    await wait_for(pilot, lambda: screen.selected_pod is not None, timeout=10)
    return screen


def text_of(widget: Static) -> str:
    return plain(widget.render(), width=200)


async def answer_yes(pilot, app, contains: str) -> str:
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=15)
    question = app.screen.question
    assert contains in question, question
    await pilot.press("y")
    return question


def pods(sim: Simulator, tenant: str) -> list[dict]:
    return sim.call(sim.store.list, PODS, f"nc-{tenant}")


def ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


async def test_describe_yaml_events_copy_and_the_argo_pane(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_tenant(pilot, app, "crashy")
        pod = screen.selected_pod
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectScreen))
        inspect = app.screen
        await wait_for(pilot, lambda: bool(inspect.objects) and "Restart Count" in inspect.text)
        assert f"Name:           {pod}" in inspect.text and "CrashLoopBackOff" in inspect.text
        assert "<set to the key 'db-password' in secret 'nextcloud-secrets'>" in inspect.text
        await pilot.press("y")
        await wait_for(pilot, lambda: inspect.text.startswith("apiVersion: v1\nkind: Pod"))
        assert "managedFields" not in inspect.text
        # tab to the Secret: keys and sizes, never the values.
        while inspect.objects[inspect.index].kind != "secret":
            await pilot.press("tab")
        await wait_for(pilot, lambda: "kind: Secret" in inspect.text)
        assert "db-password: <32 bytes, hidden>" in inspect.text
        await pilot.press("slash", *"s3-", "enter")
        await wait_for(pilot, lambda: len(inspect.matches) == 2)
        assert all("s3-" in inspect.text.splitlines()[i] for i in inspect.matches)
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is screen)

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen))
        events = app.screen
        await wait_for(pilot, lambda: events.loaded and bool(events.events), timeout=10)
        assert any(e.reason == "BackOff" and e.type == "Warning" for e in events.events)
        times = [e.last_seen for e in events.events if e.last_seen]
        assert times == sorted(times, reverse=True)
        await pilot.press("escape")

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CopyScreen))
        assert app.screen.choices[0] == ("hostname", "crashy.nextcloud.example.com")
        assert ("pod (selected)", pod) in app.screen.choices
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.clipboard == "crashy.nextcloud.example.com"


async def test_restart_ends_the_stale_crash_loop_with_a_new_replicaset(sim) -> None:
    before = {p["metadata"]["labels"]["pod-template-hash"] for p in pods(sim, "crashy")}
    app = console(sim)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_tenant(pilot, app, "crashy")
        await pilot.press("r")
        await answer_yes(pilot, app, "Restart tenant crashy?")
        await wait_for(
            pilot, lambda: "successfully rolled out" in text_of(screen.action_line), timeout=30
        )
    after = {p["metadata"]["labels"]["pod-template-hash"] for p in pods(sim, "crashy")}
    assert after.isdisjoint(before) and all(ready(p) for p in pods(sim, "crashy"))
    deployment = sim.call(sim.store.get, DEPLOYMENTS, "nc-crashy", "nextcloud")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert ("restart", "ok") in [(e["action"], e["result"]) for e in read_audit()]


async def test_delete_pod_is_replaced_and_followed(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_tenant(pilot, app, "steady")
        await pilot.press("j")
        victim = screen.selected_pod
        await pilot.press("ctrl+k")
        await answer_yes(pilot, app, f"Delete pod {victim}?")
        await wait_for(pilot, lambda: "Ready;" in text_of(screen.action_line), timeout=30)
    names = {p["metadata"]["name"] for p in pods(sim, "steady")}
    assert victim not in names and len(names) == 2
    entries = [(e["action"], e["target"], e["result"]) for e in read_audit()]
    assert ("delete-pod", f"nc-steady/pod/{victim}", "ok") in entries


async def test_sync_asks_about_the_wave_order_then_syncs_and_history_rollback(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_tenant(pilot, app, "steady")
        await pilot.press("S")
        question = await answer_yes(pilot, app, "Sync tenant steady?")
        assert "canary (wave 0)" in question and "6.6.4 → 6.6.9" in question
        await wait_for(pilot, lambda: "sync: done" in text_of(screen.action_line), timeout=40)

        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await wait_for(pilot, lambda: len(history.entries) == 2, timeout=10)
        table = history.query_one(DataTable)
        assert "6.6.9" in table.get_cell("1", "revision").plain
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff = app.screen
        await wait_for(pilot, lambda: diff.diff is not None, timeout=10)
        assert diff.diff.summary() == "6.6.9 → 6.6.4, values: 2 lines in common.yaml"
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is screen)

        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await wait_for(pilot, lambda: len(app.screen.entries) == 2, timeout=10)
        await pilot.press("enter")  # the entry before the current one
        await answer_yes(pilot, app, "changes: 6.6.9 → 6.6.4, values: 2 lines in common.yaml")
        await wait_for(pilot, lambda: "rollback: " in text_of(screen.action_line), timeout=10)
        await wait_for(
            pilot, lambda: "rollback: done" in text_of(screen.action_line)
            or "rollback: failed" in text_of(screen.action_line), timeout=40,
        )  # fmt: skip
    results = [(e["action"], e["result"]) for e in read_audit()]
    assert ("sync", "ok") in results and any(a == "rollback" for a, _ in results)


async def test_terminate_and_hard_refresh(tmp_path) -> None:
    slow = [
        {"name": "canary", "wave": 0, "replicas": 1},
        {"name": "stuck", "wave": 1, "replicas": 1, "faults": {"sync_fails": True}},
    ]
    spec = scenario(slow, pending_upgrade=UPGRADE, timings={"sync": 3.0})
    with Simulator(spec, workdir=tmp_path / "slow") as sim:
        app = console(sim)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = await open_tenant(pilot, app, "stuck")
            await pilot.press("ctrl+r")
            await answer_yes(pilot, app, "Hard-refresh")
            await wait_for(pilot, lambda: "refresh of" in text_of(screen.action_line), 15)

            def patch_operation() -> None:
                def mutate(obj: dict) -> None:
                    obj["operation"] = {
                        "initiatedBy": {"username": "someone"},
                        "sync": {"revisions": ["", ""]},
                        "retry": {"limit": 5},
                    }

                sim.store.update(APPLICATIONS, "argocd", "nc-stuck", mutate)

            sim.call(patch_operation)
            wait_until(lambda: phase(sim, "stuck") == "Running", what="the sync running")
            await pilot.press("T")
            await answer_yes(pilot, app, "Terminate the running Argo CD operation")
            await wait_for(pilot, lambda: "Terminating" in text_of(screen.action_line), 15)
            wait_until(lambda: phase(sim, "stuck") == "Failed", timeout=20, what="terminated")
            app_obj = sim.call(sim.store.get, APPLICATIONS, "argocd", "nc-stuck")
            assert app_obj["status"]["operationState"]["message"] == "Operation terminated"
            await pilot.press("T")  # nothing runs now: refused before any question
            await wait_for(pilot, lambda: any("no operation is in progress" in n.message
                                              for n in app._notifications), 15)  # fmt: skip
            assert not isinstance(app.screen, ConfirmScreen)


def phase(sim: Simulator, tenant: str) -> str:
    app = sim.call(sim.store.get, APPLICATIONS, "argocd", f"nc-{tenant}")
    return ((app.get("status") or {}).get("operationState") or {}).get("phase", "")


async def test_read_only_and_rbac_refuse_before_asking(sim, tmp_path) -> None:
    app = console(sim, read_only=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_tenant(pilot, app, "steady")
        await pilot.press("r")
        await wait_for(pilot, lambda: any("read-only mode" in n.message
                                          for n in app._notifications), 15)  # fmt: skip
        assert not isinstance(app.screen, ConfirmScreen)
    viewer = sim.write_kubeconfig(tmp_path / "viewer.kubeconfig", user="viewer")
    app = console(sim, kubeconfig=viewer)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_tenant(pilot, app, "steady")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: any(
            "may not delete pods in namespace nc-steady" in n.message
            for n in app._notifications), 15)  # fmt: skip
        assert not isinstance(app.screen, ConfirmScreen)


async def palette(pilot, app, command: str) -> None:
    await pilot.press("colon", *command)
    options = app.screen.query_one(OptionList)
    await wait_for(pilot, lambda: options.option_count > 0 and options.highlighted == 0, 10)
    assert command in str(options.get_option_at_index(0).prompt)
    await pilot.press("enter")


async def test_the_palette_offers_the_tenant_actions(sim) -> None:
    app = console(sim)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.screen.select_tenant("steady"), timeout=15)
        await palette(pilot, app, "Events: steady")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen), timeout=10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TenantScreen), timeout=10)
        await palette(pilot, app, "Restart: steady")
        await answer_yes(pilot, app, "Restart tenant steady?")
