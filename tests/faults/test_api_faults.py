"""The Kubernetes API misbehaving under a running console: it restarts, drops watches, forgets
old versions (410), answers slowly, rejects the token (401) or forbids a kind or a namespace.
Each shows as one line in the banner (or a CLI line), the last known fleet stays on screen,
and once the API is back the fleet matches the cluster exactly: no tenant or pod lost or
doubled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ncconsole.fleet.model import FleetSnapshot, Health
from ncconsole.fleet.state import FleetState
from ncconsole.fleet.watches import NEXTCLOUD_SELECTOR
from ncconsole.kube.watch import KindStatus
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import APPLICATIONS, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from ncconsole.sim.simulator import Simulator
from ncconsole.tui.app import make_app
from ncconsole.tui.widgets.fleet_table import FleetTable
from ncconsole.tui.widgets.header import Banner, banner_text
from tests.cluster_objects import add_tenant, ensure_namespace, pod
from tests.faults.conftest import (
    FAST,
    assert_keys_answered_while,
    assert_one_line_error,
    complete,
    live_fleet,
    run_cli,
    sim_settings,
    simulator,
    wait_ui,
)
from tests.gitops.repo_builder import tenant_yaml, write_repo

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "alpha", "wave": 0, "replicas": 2},
    {"name": "beta", "wave": 1, "replicas": 1},
    {"name": "gamma", "wave": 1, "replicas": 1},
]
Picture = dict[str, tuple[str, ...]]


def cluster_picture(server: SimServer, prefix: str = "nc-") -> Picture:
    """tenant -> its Nextcloud pods, as the API server holds them (Applications name tenants)."""

    def read() -> Picture:
        tenants = {
            obj["metadata"]["labels"]["tenant"] for obj in server.store.list(APPLICATIONS, "argocd")
        }
        picture: Picture = {name: () for name in tenants}
        for obj in server.store.list(PODS, None, NEXTCLOUD_SELECTOR):
            namespace = obj["metadata"]["namespace"]
            if namespace.startswith(prefix) and obj["metadata"].get("deletionTimestamp") is None:
                tenant = namespace[len(prefix) :]
                picture[tenant] = tuple(sorted((*picture.get(tenant, ()), obj["metadata"]["name"])))
        return picture

    return server.call(read)


def fleet_picture(snapshot: FleetSnapshot) -> Picture:
    names = [tenant.name for tenant in snapshot.tenants]
    assert len(names) == len(set(names)), f"a tenant is listed twice: {names}"
    picture: Picture = {}
    for tenant in snapshot.tenants:
        pods = [p.name for p in tenant.pods if not p.deleting]
        assert len(pods) == len(set(pods)), f"{tenant.name}: a pod is listed twice: {pods}"
        picture[tenant.name] = tuple(sorted(pods))
    return picture


def converges(state: FleetState, server: SimServer, timeout: float = 15) -> FleetSnapshot:
    """The fleet ends up exactly as the cluster is (compared on every new snapshot)."""
    last: list[tuple[Picture, Picture]] = []

    def same(snapshot: FleetSnapshot) -> bool:
        if not complete(snapshot):
            return False
        pair = (fleet_picture(snapshot), cluster_picture(server))
        last[:] = [pair]
        return pair[0] == pair[1]

    try:
        return state.wait_for(same, timeout)
    except TimeoutError:
        raise AssertionError(f"fleet != cluster: {last}") from None


def banner(snapshot: FleetSnapshot) -> str:
    return banner_text(snapshot, datetime.now(UTC)).plain


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    with simulator(tmp_path / "sim", TENANTS) as running:
        yield running


# -- the API server restarting ----------------------------------------------------------


def test_api_outage_shows_banner_keeps_last_fleet_and_recovers_exactly(sim: Simulator) -> None:
    state = live_fleet(sim_settings(sim))
    server = sim.server
    assert server is not None
    try:
        converges(state, server)
        server.stop_listening()
        down = state.wait_for(lambda s: not s.api_reachable, 10)
        assert banner(down).startswith("⚠ API unreachable — retrying · data ")
        assert f"connection refused by {server.url}" in banner(down)
        alpha = down.tenant("alpha")
        assert alpha is not None and alpha.health is Health.HEALTHY  # the last known state
        # Meanwhile the cluster goes on: pods die and are replaced by their Deployments.
        killed = {sim.kill_pod("alpha"), sim.kill_pod("beta")}
        server.start_listening()
        back = converges(state, server)
        assert banner(back) == ""
        assert not killed & {p.name for t in back.tenants for p in t.pods}
    finally:
        state.stop()


async def test_console_during_an_outage_keeps_its_rows_and_answers_keys(sim: Simulator) -> None:
    settings = sim_settings(sim)
    console = make_app(FleetState(settings, timing=FAST, probes=False, repo_poll=0.3), settings)
    server = sim.server
    assert server is not None
    async with console.run_test(size=(140, 40)) as pilot:
        table = console.screen.query_one(FleetTable)
        shown = console.screen.query_one(Banner)
        await wait_ui(pilot, lambda: len(table.row_keys) == 5, 15)
        rows = list(table.row_keys)
        server.stop_listening()
        try:
            await wait_ui(pilot, lambda: "connection refused" in shown.content.plain, 15)
            assert table.row_keys == rows  # the last known fleet stays on screen
            await assert_keys_answered_while(
                pilot, table, "cursor_coordinate", lambda: not console.snapshot.api_reachable
            )
        finally:
            server.start_listening()
        await wait_ui(pilot, lambda: not shown.display, 15)
        assert table.row_keys == rows


def test_full_restart_after_a_long_outage_relists_on_410(tmp_path: Path) -> None:
    """The server comes back as a new process on the same port (same storage, same CA) with
    less history than was written meanwhile: every watch gets 410 Gone and lists again."""
    store = Store(history_limit=20)
    first = SimServer(tls_dir=tmp_path / "tls", store=store, admin_token="t0ken").start()
    ensure_namespace(first, "argocd")
    waves = {"alpha": 0, "beta": 1}
    for name, wave in waves.items():
        add_tenant(first, name, wave)
    files = {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in waves.items()}
    repo = write_repo(tmp_path / "repo", files)
    settings = Settings(kubeconfig=first.write_kubeconfig(tmp_path / "kubeconfig"), repo=repo)
    state = FleetState(settings, timing=FAST, probes=False)
    state.start()
    second = None
    try:
        converges(state, first)
        threading.Thread(target=first.stop, daemon=True).start()  # as a crashing server would
        state.wait_for(lambda s: not s.api_reachable, 10)
        for i in range(30):  # far more writes than the history keeps
            store.create(PODS, pod("alpha", f"nextcloud-alpha-{i + 1}"))
        for i in range(0, 30, 2):
            store.delete(PODS, "nc-alpha", f"nextcloud-alpha-{i + 1}")
        store.delete(PODS, "nc-beta", "nextcloud-beta-0")
        second = SimServer(port=first.port, tls_dir=tmp_path / "tls2", store=store,
                           admin_token="t0ken")  # fmt: skip
        second.tls = first.tls
        second.start()
        back = converges(state, second)
        assert len(back.tenant("alpha").pods) == 16  # type: ignore[union-attr]
        assert back.tenant("beta").pods == ()  # type: ignore[union-attr]
        assert banner(back) == ""
    finally:
        state.stop()
        if second is not None:
            second.stop()


# -- watches dropped ---------------------------------------------------------------------


def test_dropped_watches_resume_silently_and_lose_nothing(sim: Simulator) -> None:
    sim.set_api_faults(drop_watches_every=0.3)
    state = live_fleet(sim_settings(sim))
    seen: list[tuple[bool, tuple[KindStatus, ...]]] = []
    state.subscribe(
        lambda s: seen.append((s.api_reachable, tuple(k.status for k in s.kinds.values())))
    )
    server = sim.server
    assert server is not None
    try:
        converges(state, server)
        for tenant in ("alpha", "beta", "gamma", "alpha"):
            sim.kill_pod(tenant)  # a change in every window between two drops
            converges(state, server)
        assert all(reachable for reachable, _ in seen), "the banner flashed on a dropped watch"
        assert not any(KindStatus.ERROR in kinds for _, kinds in seen)
    finally:
        state.stop()


# -- a very slow API ---------------------------------------------------------------------


async def test_slow_api_banner_says_timeout_and_keys_still_answer(sim: Simulator) -> None:
    settings = sim_settings(sim)
    console = make_app(FleetState(settings, timing=FAST, probes=False, repo_poll=0.3), settings)
    async with console.run_test(size=(140, 40)) as pilot:
        table = console.screen.query_one(FleetTable)
        shown = console.screen.query_one(Banner)
        await wait_ui(pilot, lambda: len(table.row_keys) == 5, 15)
        sim.set_api_faults(latency=1.5)
        await wait_ui(pilot, lambda: "timeout talking to" in shown.content.plain, 15)
        assert shown.content.plain.startswith("⚠ API unreachable — retrying")
        await assert_keys_answered_while(
            pilot, table, "cursor_coordinate", lambda: "timeout talking to" in shown.content.plain,
            presses=16,
        )  # fmt: skip
        sim.set_api_faults(latency=0.0)
        await wait_ui(pilot, lambda: not shown.display, 15)


# -- credentials and RBAC ---------------------------------------------------------------


def test_expired_token_is_named_in_the_banner(sim: Simulator) -> None:
    state = live_fleet(sim_settings(sim))
    try:
        state.wait_for(complete, 15)
        sim.call(sim.server.auth.expire, sim.token())  # type: ignore[union-attr]
        every = state.wait_for(
            lambda s: all(k.status is KindStatus.UNAUTHORIZED for k in s.kinds.values()), 10
        )  # every watch asked again at the next heartbeat, not at its timeout minutes later
        text = banner(every)
        assert text.startswith("⚠ credentials rejected (401 Unauthorized)"), text
        assert "RBAC" not in text, text
        rejected = every
        assert rejected.tenant("alpha") is not None  # the last known fleet stays
    finally:
        state.stop()


def test_expired_token_in_the_cli_is_one_line(sim: Simulator) -> None:
    sim.call(sim.server.auth.expire, sim.token())  # type: ignore[union-attr]
    done = run_cli(
        "status", "--kubeconfig", str(sim.kubeconfig), "--repo", str(sim.repo),
        env={"NCCONSOLE_CONFIG": str(sim.config_path)},
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""  # no table of "healthy" tenants
    assert_one_line_error(done.stderr, "credentials rejected (401 Unauthorized)", sim.server.url)  # type: ignore[union-attr]


def test_forbidden_kind_is_named_and_the_rest_of_the_fleet_shows(sim: Simulator) -> None:
    rule = DenyRule(resources=("pods",), verbs=("list", "watch"))
    sim.call(sim.server.auth.deny, rule)  # type: ignore[union-attr]
    state = live_fleet(sim_settings(sim))
    try:
        snapshot = state.wait_for(
            lambda s: (
                s.complete
                and len(s.tenants) == 3
                and s.kinds["pods"].status is KindStatus.FORBIDDEN
            ),
            15,
        )
        # Forbidden across all namespaces and then in each tenant namespace too.
        assert banner(snapshot).startswith("⊘ not allowed to read: pods (RBAC forbids it)")
        alpha = snapshot.tenant("alpha")
        assert alpha is not None and alpha.app is not None and alpha.pods == ()
        # Unknown, never healthy with 0/0 pods (issue 11): an empty list there proves nothing.
        assert alpha.health is Health.UNKNOWN
        assert alpha.reason == "no access to nc-alpha: may not list pods"
    finally:
        state.stop()


def test_forbidden_namespace_refuses_actions_there_in_one_line(tmp_path: Path) -> None:
    tenants = [*TENANTS, {"name": "hidden", "wave": 1, "faults": {"namespace_forbidden": True}}]
    with simulator(tmp_path / "sim", tenants) as sim:
        env = {"NCCONSOLE_CONFIG": str(sim.config_path), "XDG_STATE_HOME": str(tmp_path)}
        occ = run_cli("occ", "hidden", "--", "status", env=env)
        assert occ.returncode == 2
        assert_one_line_error(occ.stderr, "pods/exec", "nc-hidden")
        secret = run_cli("secret", "create", "hidden", "--s3-access-key", "A",
                         "--s3-secret-key", "S", env=env)  # fmt: skip
        assert secret.returncode == 2
        assert_one_line_error(secret.stderr, "secrets", "nc-hidden")
        assert "S\n" not in secret.stdout + secret.stderr
        # The fleet (which now reads pods per namespace: nobody may list them across
        # all namespaces while one is forbidden) still shows the tenant.
        state = live_fleet(sim_settings(sim))
        try:
            snapshot = state.wait_for(lambda s: s.complete and len(s.tenants) == 4, 15)
            assert snapshot.tenant("hidden") is not None
        finally:
            state.stop()
