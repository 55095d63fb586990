"""Requesting and following Argo CD syncs, and the promotion Lease, against the simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ncconsole.fleet.health import sync_busy
from ncconsole.kube.appset_strategy import read_appset_strategy
from ncconsole.kube.argocd import (
    DEGRADED,
    DONE,
    FAILED,
    PENDING,
    SyncRefused,
    SyncRequest,
    get_app,
    request_sync,
    sync_state,
)
from ncconsole.kube.argocd_follow import Cancel, follow_sync
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.kube.lease import LeaseHeld, PromotionLease, lease_holder
from ncconsole.kube.views import parse_app
from ncconsole.settings import Settings
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario, wait_until

pytestmark = pytest.mark.timeout(60)
TENANTS = [
    {"name": "canary", "wave": 0, "replicas": 1},
    {"name": "alpha", "wave": 1, "replicas": 1},
    {"name": "broken", "wave": 1, "replicas": 1, "faults": {"sync_fails": True}},
    {"name": "crashy", "wave": 1, "replicas": 1, "faults": {"degraded": True}},
]
NS = "argocd"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario(
        TENANTS, pending_upgrade={"chart_version": "6.6.9", "image_tag": "30.0.8-apache"}
    )
    with Simulator(spec, workdir=tmp_path_factory.mktemp("argo")) as running:
        yield running


@pytest.fixture(scope="module")
def conn(sim: Simulator) -> KubeConnection:
    return connect(Settings(kubeconfig=sim.kubeconfig))


def head(sim: Simulator) -> str:
    return (sim.repo / ".git" / "refs" / "heads" / "main").read_text().strip()


def compared(conn: KubeConnection, name: str) -> str:
    return parse_app(get_app(conn, NS, name)).sync_revision


def test_sync_is_followed_to_done_at_the_new_revision(sim: Simulator, conn: KubeConnection) -> None:
    """Multi-source: what Argo CD compares with is the chart version and the values commit."""
    target = f"6.6.9,{head(sim)}"
    wait_until(lambda: compared(conn, "nc-canary") == target)
    request = request_sync(conn, NS, "nc-canary", user="tester", reason="wave 0", busy=sync_busy)
    app = get_app(conn, NS, "nc-canary")
    operation = app.get("operation") or app["status"]["operationState"]["operation"]
    assert operation["initiatedBy"] == {"username": "ncconsole:tester"}
    assert {"name": "RequestID", "value": request.request_id} in operation["info"]
    assert operation["sync"]["prune"] is False and operation["retry"] == {"limit": 2}
    seen: list[str] = []
    result = follow_sync(conn, request, timeout=20, on_state=lambda s: seen.append(s.state))
    assert result.state.state == DONE, result.state
    assert not result.timed_out and result.state.revision == target
    final = get_app(conn, NS, "nc-canary")["status"]
    assert final["sync"]["status"] == "Synced" and final["health"]["status"] == "Healthy"
    assert final["summary"]["images"] == ["nextcloud:30.0.8-apache"]
    assert seen[-1] == DONE and len(seen) >= 2


def test_a_second_sync_is_refused_while_one_is_requested(conn: KubeConnection) -> None:
    request_sync(conn, NS, "nc-alpha", user="tester", reason="first", busy=sync_busy)
    with pytest.raises(SyncRefused, match="nc-alpha: a sync operation is requested"):
        request_sync(conn, NS, "nc-alpha", user="tester", reason="second", busy=sync_busy)


def test_failed_and_degraded_syncs_stop_the_wait(conn: KubeConnection) -> None:
    broken = request_sync(conn, NS, "nc-broken", user="tester", reason="wave 1", busy=sync_busy)
    result = follow_sync(conn, broken, timeout=20)
    assert result.state.state == FAILED and "admission webhook" in result.state.message
    crashy = request_sync(conn, NS, "nc-crashy", user="tester", reason="wave 1", busy=sync_busy)
    result = follow_sync(conn, crashy, timeout=20)
    assert result.state.state == DEGRADED and "progress deadline" in result.state.message


def test_timeout_and_cancel_end_the_follow(sim: Simulator, conn: KubeConnection) -> None:
    never = SyncRequest(NS, "nc-canary", "no-such-request", "", "")
    result = follow_sync(conn, never, timeout=0.5)
    assert result.timed_out and result.state.state == PENDING
    cancel = Cancel()
    threading.Timer(0.3, cancel.set).start()
    result = follow_sync(conn, never, timeout=30, cancel=cancel)
    assert result.cancelled and not result.timed_out  # ended by the cancel, not the 30 s


def test_done_needs_reconcile_after_finish_and_our_request() -> None:
    request = SyncRequest(NS, "nc-x", "r-1", "abc", "1")
    op = {"info": [{"name": "RequestID", "value": "r-1"}]}
    app = {
        "status": {
            "operationState": {"operation": op, "phase": "Succeeded",
                               "finishedAt": "2026-01-01T10:00:05Z"},
            "reconciledAt": "2026-01-01T10:00:04Z",
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Healthy"},
        }
    }  # fmt: skip
    assert sync_state(app, request).state == "waiting"
    app["status"]["reconciledAt"] = "2026-01-01T10:00:05Z"
    assert sync_state(app, request).state == DONE
    app["status"]["operationState"]["phase"] = "Running"  # a retry in backoff
    assert sync_state(app, request).state == "syncing"
    other = SyncRequest(NS, "nc-x", "r-2", "abc", "1")
    assert sync_state(app, other).state == PENDING


def test_done_rules_read_the_revisions_of_a_multi_source_app() -> None:
    """argo-cd controller/state.go: a multi-source Application has only `revisions`."""
    request = SyncRequest(NS, "nc-x", "r-1", "", "1")
    op = {"info": [{"name": "RequestID", "value": "r-1"}]}
    app = {
        "spec": {"sources": [{"repoURL": "c", "chart": "nextcloud"}, {"repoURL": "g"}]},
        "status": {
            "operationState": {"operation": op, "phase": "Succeeded",
                               "finishedAt": "2026-01-01T10:00:05Z",
                               "syncResult": {"revision": "", "revisions": ["6.6.9", "f" * 40]}},
            "reconciledAt": "2026-01-01T10:00:05Z",
            "sync": {"status": "Synced", "revisions": ["6.6.9", "f" * 40]},
            "health": {"status": "Healthy"},
        },
    }  # fmt: skip
    state = sync_state(app, request)
    assert (state.state, state.revision) == (DONE, f"6.6.9,{'f' * 40}")
    assert state.message == "Synced and Healthy at 6.6.9@fffffff"
    app["status"]["sync"]["revisions"] = ["6.6.9", "e" * 40]  # HEAD moved on meanwhile
    assert "waiting for revision 6.6.9@fffffff" in sync_state(app, request).message


def test_multi_source_sync_request_names_every_source_revision(
    sim: Simulator, conn: KubeConnection
) -> None:
    """`operation.sync.revisions`, one per source: Argo CD ignores `sync.revision` for a
    multi-source Application (controller/sync.go), and the CRD has no sourcePositions."""
    key = compared(conn, "nc-alpha")
    wait_until(lambda: not sync_busy(parse_app(get_app(conn, NS, "nc-alpha"))), timeout=20)
    request_sync(conn, NS, "nc-alpha", user="t", reason="r", busy=sync_busy, revision=key)
    app = get_app(conn, NS, "nc-alpha")
    sync = (app.get("operation") or app["status"]["operationState"]["operation"])["sync"]
    assert sync["revisions"] == key.split(",") and "revision" not in sync
    with pytest.raises(SyncRefused, match="names 1 revision"):
        request_sync(conn, NS, "nc-crashy", user="t", reason="r", busy=sync_busy,
                     revision=head(sim))  # fmt: skip


def test_conflicting_writes_are_retried_then_refused(sim: Simulator, conn: KubeConnection) -> None:
    """Argo CD rewrites status all the time: a 409 on the sync patch is read again and
    retried a few times before the tenant fails."""
    wait_until(lambda: not sync_busy(parse_app(get_app(conn, NS, "nc-canary"))), timeout=20)
    sim.set_api_faults(concurrent_writes={f"{NS}/nc-canary": 2})
    request = request_sync(conn, NS, "nc-canary", user="t", reason="r", busy=sync_busy)
    assert follow_sync(conn, request, timeout=20).state.state == DONE
    sim.set_api_faults(concurrent_writes={f"{NS}/nc-canary": 50})
    with pytest.raises(SyncRefused, match=r"kept changing .* \(4 attempts\)"):
        request_sync(conn, NS, "nc-canary", user="t", reason="r", busy=sync_busy)
    sim.set_api_faults(concurrent_writes={f"{NS}/nc-canary": 0})


def test_manual_appset_strategy(conn: KubeConnection) -> None:
    strategy = read_appset_strategy(conn, NS, "nextcloud-tenants")
    assert strategy is not None and strategy.type == "AllAtOnce" and strategy.steps == ()
    assert read_appset_strategy(conn, NS, "no-such-appset") is None


# -- the Lease --------------------------------------------------------------------------------


def test_lease_is_exclusive_renewed_released_and_taken_over_when_expired(
    conn: KubeConnection,
) -> None:
    first = PromotionLease(conn, NS, name="test-lease", holder="ann@host1", duration=2)
    second = PromotionLease(conn, NS, name="test-lease", holder="bob@host2", duration=2)
    first.acquire()
    first.start_renewing(interval=0.2)
    with pytest.raises(LeaseHeld, match="held by ann@host1"):
        second.acquire()
    before = first.read()["spec"]["renewTime"]
    wait_until(lambda: first.read()["spec"]["renewTime"] != before, what="a renewal")
    first.release()
    assert lease_holder(first.read()) == ""
    second.acquire()  # released: free at once
    assert lease_holder(second.read()) == "bob@host2"
    # bob's console dies without releasing; after leaseDurationSeconds ann may take over.
    third = PromotionLease(conn, NS, name="test-lease", holder="ann@host1", duration=2)
    with pytest.raises(LeaseHeld):
        third.acquire()
    wait_until(lambda: lease_holder(third.read()) == "", timeout=5, what="expiry")
    third.acquire()
    assert third.read()["spec"]["leaseTransitions"] >= 2
    assert not second.renew() and second.lost.is_set()
    third.release()
