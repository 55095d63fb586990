"""fleet/health.py: the one place every judgement about a tenant is made, asked by the console,
`ncconsole status`, the smoke checks and the promotion gates alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ncconsole.fleet.health import (
    app_settled,
    broken_pods,
    pod_findings,
    pods_ready,
    rollout_settled,
    sync_busy,
    unready_pods,
)
from ncconsole.fleet.model import Health, TenantState
from ncconsole.kube.views import AppView, DeploymentView, PodView

NOW = datetime(2026, 3, 4, tzinfo=UTC)


def _pod(name: str, **changes: object) -> PodView:
    base = PodView("nc-a", name, "Running", True, 0, NOW, "worker-1", "nextcloud:30.0.7")
    return replace(base, **changes)


def _deployment(replicas: int = 1, **changes: object) -> DeploymentView:
    base = DeploymentView("nc-a", "nextcloud-a", replicas, replicas, replicas, replicas, "nc", 2, 2)
    return replace(base, **changes)


def _app(**changes: object) -> AppView:
    base = AppView("nc-a", "argocd", "1", {}, "Synced", "abc", "abc", "Healthy")
    return replace(base, **changes)


def _tenant(**changes: object) -> TenantState:
    base = TenantState("a", 1, "prod", "a.example", "nc-a", "nc-a", "nc-a", True)
    return replace(base, **changes)


def test_a_terminating_pod_does_not_count_as_ready_during_a_rollout() -> None:
    old = _pod("old", deleting=True)
    new = _pod("new", ready=False)
    # The Deployment may still report the old pod as ready: the pods are what the console sees.
    deployment = _deployment(1, ready_replicas=1)
    assert pods_ready((old, new), deployment) == (0, 1)
    assert pod_findings((old, new), deployment) == [(Health.PROGRESSING, "0/1 pods ready")]
    surge = _pod("surge")
    assert pods_ready((old, new, surge), deployment) == (1, 1)
    assert pods_ready((old, surge), None) == (1, 1)


def test_one_list_of_broken_pods_for_the_health_word_and_the_smoke_check() -> None:
    oom = _pod("oom", ready=False, reason="OOMKilled")
    pulling = _pod("pulling", ready=False, reason="ImagePullBackOff")
    starting = _pod("starting", ready=False)
    fine = _pod("fine")
    pods = (oom, pulling, starting, fine)
    assert broken_pods(pods) == [oom, pulling]
    assert unready_pods(pods) == [oom, pulling, starting]
    found = pod_findings(pods, _deployment(4))
    assert found == [
        (Health.DEGRADED, "ImagePullBackOff"),
        (Health.DEGRADED, "OOMKilled"),
    ]


def test_sync_busy_is_requested_or_running() -> None:
    assert sync_busy(None) == ""
    assert sync_busy(_app(operation_phase="Succeeded")) == ""
    requested = _app(operation_requested=True, operation_initiator="ncconsole:oncall")
    assert sync_busy(requested) == "a sync operation is requested (by ncconsole:oncall)"
    assert sync_busy(_app(operation_phase="Running")) == "a sync operation is Running"
    assert not app_settled(_app(operation_phase="Terminating"), "abc")
    assert app_settled(_app(), "abc") and not app_settled(_app(), "def")
    assert not app_settled(_app(), "")


def test_a_rollout_is_settled_once_the_old_pods_are_gone() -> None:
    deployment = _deployment(1)
    settled = _tenant(app=_app(), deployment=deployment, pods=(_pod("new"),))
    assert rollout_settled(settled)
    assert not rollout_settled(replace(settled, pods=(_pod("new"), _pod("old", deleting=True))))
    assert not rollout_settled(replace(settled, app=_app(operation_phase="Running")))
    assert not rollout_settled(replace(settled, deployment=replace(deployment, generation=3)))
    assert not rollout_settled(replace(settled, deployment=None))
    assert not rollout_settled(None)


def test_broken_pods_of_one_kind_are_counted_with_their_restarts() -> None:
    crashing = [
        _pod(f"nextcloud-{i}", ready=False, reason="CrashLoopBackOff", restarts=23)
        for i in range(2)
    ]
    assert pod_findings(crashing, _deployment(2)) == [
        (Health.DEGRADED, "CrashLoopBackOff ×2 (46 restarts)")
    ]
