from datetime import UTC, datetime

from ncconsole.kube.views import (
    parse_app,
    parse_appset,
    parse_deployment,
    parse_event,
    parse_pod,
    ready_condition,
)

CRASHING_POD = {
    "metadata": {
        "name": "nextcloud-7d9f-abcde",
        "namespace": "nc-acme",
        "creationTimestamp": "2026-11-26T10:00:00Z",
        "labels": {"app.kubernetes.io/name": "nextcloud"},
    },
    "spec": {
        "nodeName": "node-1",
        "containers": [
            {"name": "nextcloud-nginx", "image": "nginx:1.27"},
            {"name": "nextcloud", "image": "nextcloud:30.0.6-fpm"},
        ],
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {"name": "nextcloud-nginx", "restartCount": 1, "state": {"running": {}}},
            {
                "name": "nextcloud",
                "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            },
        ],
    },
}


def test_pod_sums_restarts_and_reports_crash_loop_and_nextcloud_image():
    pod = parse_pod(CRASHING_POD)
    assert (pod.namespace, pod.name, pod.node) == ("nc-acme", "nextcloud-7d9f-abcde", "node-1")
    assert pod.restarts == 8
    assert pod.ready is False
    assert pod.reason == "CrashLoopBackOff"
    assert pod.image == "nextcloud:30.0.6-fpm"
    assert pod.created == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_ready_pod_and_pod_without_status():
    ready = {
        "metadata": {"name": "p", "namespace": "nc-a", "deletionTimestamp": "2026-11-26T10:00:00Z"},
        "spec": {"containers": [{"name": "other", "image": "img:1"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    view = parse_pod(ready)
    assert view.ready and view.deleting and view.image == "img:1" and view.reason == ""
    bare = parse_pod({"metadata": {"name": "q", "namespace": "nc-a"}})
    assert (bare.phase, bare.ready, bare.restarts, bare.image) == ("Unknown", False, 0, "")


def test_application_without_status_and_with_unknown_health_word():
    bare = parse_app({"metadata": {"name": "nc-acme", "namespace": "argocd"}})
    assert (bare.sync_status, bare.health_status, bare.history) == ("Unknown", "Unknown", ())
    odd = parse_app(
        {
            "metadata": {"name": "nc-acme", "namespace": "argocd", "labels": {"wave": "1"}},
            "spec": {"source": {"targetRevision": "main"}},
            "operation": {"sync": {}},
            "status": {
                "sync": {"status": "Synced", "revision": "abc"},
                "health": {"status": "Sparkling", "message": "?"},
                "operationState": {
                    "phase": "Running",
                    "startedAt": "2026-11-26T10:00:00Z",
                    "syncResult": {"revision": "abc"},
                },
                "conditions": [{"type": "SyncError", "message": "boom"}],
                "history": [
                    {
                        "id": 3,
                        "revision": "abc",
                        "deployedAt": "2026-11-26T09:00:00Z",
                        "initiatedBy": {"username": "ncconsole:bob"},
                    }
                ],
                "summary": {"images": ["nextcloud:30"]},
            },
        }
    )
    assert odd.health_status == "Unknown"
    assert odd.sync_status == "Synced" and odd.sync_revision == "abc"
    assert odd.operation_requested and odd.operation_phase == "Running"
    assert odd.operation_revision == "abc" and odd.target_revision == "main"
    assert odd.conditions == (("SyncError", "boom"),)
    assert odd.history[0].initiated_by == "ncconsole:bob" and odd.history[0].id == 3
    assert odd.images == ("nextcloud:30",) and odd.labels == {"wave": "1"}


def test_deployment_defaults_and_counts():
    view = parse_deployment(
        {
            "metadata": {"name": "nextcloud", "namespace": "nc-a", "generation": 3},
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [{"name": "nextcloud", "image": "nc:30"}]}},
            },
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "observedGeneration": 3},
        }
    )
    assert (view.replicas, view.ready_replicas, view.available_replicas) == (2, 1, 0)
    assert view.image == "nc:30" and view.generation == view.observed_generation == 3
    assert parse_deployment({"metadata": {"name": "x"}}).replicas == 1


def test_event_core_v1_and_events_v1_shapes():
    core = parse_event(
        {
            "metadata": {"namespace": "nc-a", "name": "e1"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting",
            "count": 4,
            "lastTimestamp": "2026-11-26T10:05:00Z",
        }
    )
    assert (core.involved_kind, core.reason, core.count, core.type) == (
        "Pod",
        "BackOff",
        4,
        "Warning",
    )
    assert core.last_seen == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    new = parse_event(
        {
            "metadata": {"namespace": "nc-a", "name": "e2"},
            "regarding": {"kind": "Deployment", "name": "d"},
            "note": "scaled",
            "eventTime": "2026-11-26T10:06:00.123456Z",
        }
    )
    assert (new.involved_kind, new.message, new.count, new.type) == (
        "Deployment",
        "scaled",
        1,
        "Normal",
    )
    assert new.last_seen is not None


def test_appset_strategy_and_ready_condition():
    appset = parse_appset(
        {
            "metadata": {"name": "nextcloud-tenants"},
            "spec": {"strategy": {"type": "RollingSync"}},
            "status": {
                "applicationStatus": [{"application": "nc-a", "step": "1", "status": "Waiting"}]
            },
        }
    )
    assert appset.strategy == "RollingSync"
    assert appset.application_status == (("nc-a", "1", "Waiting", ""),)
    assert parse_appset({"metadata": {"name": "x"}}).strategy == "AllAtOnce"
    store = {
        "status": {"conditions": [{"type": "Ready", "status": "False", "message": "vault sealed"}]}
    }
    assert ready_condition(store) == (False, "vault sealed")
    assert ready_condition({}) == (None, "")
