"""The simulator's object store, selectors and patches, driven directly (no HTTP)."""

from __future__ import annotations

import asyncio

import pytest

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.patching import json_patch, merge_patch, strategic_merge_patch
from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, PODS
from ncconsole.sim.apiserver.selectors import parse_label_selector
from ncconsole.sim.apiserver.store import Store


def pod(ns: str, name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {}}


@pytest.fixture
def store() -> Store:
    s = Store(history_limit=50)
    for ns in ("nc-a", "nc-b"):
        s.create(NAMESPACES, {"metadata": {"name": ns}})
    return s


def test_create_fills_metadata_and_bumps_one_global_version(store: Store) -> None:
    p = store.create(PODS, pod("nc-a", "web-1"))
    d = store.create(DEPLOYMENTS, {"metadata": {"name": "nextcloud", "namespace": "nc-a"}})
    assert p["metadata"]["uid"] and p["metadata"]["creationTimestamp"].endswith("Z")
    assert p["metadata"]["generation"] == 1 and p["kind"] == "Pod" and p["apiVersion"] == "v1"
    assert int(d["metadata"]["resourceVersion"]) == int(p["metadata"]["resourceVersion"]) + 1


def test_create_errors_match_the_apiserver(store: Store) -> None:
    store.create(PODS, pod("nc-a", "web-1"))
    with pytest.raises(ApiError) as exists:
        store.create(PODS, pod("nc-a", "web-1"))
    assert (exists.value.code, exists.value.message) == (409, 'pods "web-1" already exists')
    with pytest.raises(ApiError) as no_ns:
        store.create(PODS, pod("nc-missing", "web-1"))
    assert (no_ns.value.code, no_ns.value.message) == (404, 'namespaces "nc-missing" not found')
    with pytest.raises(ApiError) as bad:
        store.create(PODS, pod("nc-a", "Web_1"))
    assert bad.value.code == 422 and bad.value.reason == "Invalid"
    assert bad.value.details["causes"][0]["field"] == "metadata.name"


def test_generate_name_and_dry_run(store: Store) -> None:
    made = store.create(PODS, {"metadata": {"generateName": "web-", "namespace": "nc-a"}})
    assert made["metadata"]["name"].startswith("web-") and len(made["metadata"]["name"]) == 9
    rv = store.resource_version
    store.create(PODS, pod("nc-a", "dry"), dry_run=True)
    assert store.try_get(PODS, "nc-a", "dry") is None and store.resource_version == rv


def test_update_bumps_generation_on_spec_only_and_skips_noops(store: Store) -> None:
    store.create(
        DEPLOYMENTS, {"metadata": {"name": "d", "namespace": "nc-a"}, "spec": {"replicas": 1}}
    )

    def set_status(o: dict) -> None:
        o["status"] = {"readyReplicas": 1}

    after_status = store.update(DEPLOYMENTS, "nc-a", "d", set_status)
    assert after_status["metadata"]["generation"] == 1
    after_spec = store.update(DEPLOYMENTS, "nc-a", "d", lambda o: {**o, "spec": {"replicas": 3}})
    assert after_spec["metadata"]["generation"] == 2
    noop = store.update(DEPLOYMENTS, "nc-a", "d", lambda o: None)
    assert noop["metadata"]["resourceVersion"] == after_spec["metadata"]["resourceVersion"]


def test_list_selectors_and_pages(store: Store) -> None:
    for i in range(5):
        store.create(PODS, pod("nc-a", f"p{i}", app="nextcloud", tier="web" if i % 2 else "db"))
    store.create(PODS, pod("nc-b", "other", app="redis"))
    names = lambda objs: [o["metadata"]["name"] for o in objs]  # noqa: E731
    assert names(store.list(PODS, label_selector="app=nextcloud,tier!=db")) == ["p1", "p3"]
    assert names(store.list(PODS, label_selector="app in (redis, x)")) == ["other"]
    assert names(store.list(PODS, label_selector="app notin (nextcloud)")) == ["other"]
    assert names(store.list(PODS, label_selector="!tier")) == ["other"]
    assert names(store.list(PODS, "nc-b")) == ["other"]
    assert names(store.list(PODS, field_selector="metadata.name=p2")) == ["p2"]
    first = store.list_page(PODS, limit=4)
    assert len(first.entries) == 4 and first.continue_token
    rest = store.list_page(PODS, limit=4, continue_token=first.continue_token)
    assert [e.obj["metadata"]["name"] for e in rest.entries] == ["p4", "other"]
    assert not rest.continue_token


def test_bad_label_selector_is_a_400() -> None:
    with pytest.raises(ApiError) as err:
        parse_label_selector("app in nextcloud")
    assert err.value.code == 400


async def test_watch_resumes_from_version_and_expires_old_ones(store: Store) -> None:
    p = store.create(PODS, pod("nc-a", "w", app="x"))
    watcher = store.watch(PODS, "nc-a", resource_version=p["metadata"]["resourceVersion"])
    store.update(
        PODS, "nc-a", "w", lambda o: {**o, "metadata": {**o["metadata"], "labels": {"app": "y"}}}
    )
    store.delete(PODS, "nc-a", "w")
    first, second = await watcher.next(1), await watcher.next(1)
    assert (first.type, second.type) == ("MODIFIED", "DELETED")
    watcher.close()
    assert store.watcher_count() == 0
    for i in range(60):  # more writes than the 50 events of history kept
        store.create(PODS, pod("nc-b", f"churn{i}"))
    with pytest.raises(ApiError) as expired:
        store.watch(PODS, resource_version=p["metadata"]["resourceVersion"])
    assert expired.value.code == 410 and expired.value.reason == "Expired"


async def test_watch_with_selector_sees_objects_leave_as_deleted(store: Store) -> None:
    store.create(PODS, pod("nc-a", "w", app="x"))
    watcher = store.watch(PODS, label_selector="app=x")
    assert (await watcher.next(1)).type == "ADDED"
    store.update(PODS, "nc-a", "w", lambda o: {**o, "metadata": {**o["metadata"], "labels": {}}})
    assert (await watcher.next(1)).type == "DELETED"
    watcher.close()


async def test_subscribers_see_changes_in_order_even_when_they_write(store: Store) -> None:
    seen: list[tuple[str, str]] = []

    def react(ev) -> None:
        seen.append((ev.type, ev.obj["metadata"]["name"]))
        if ev.type == "ADDED" and ev.obj["metadata"]["name"] == "a":
            store.create(PODS, pod("nc-a", "b"))

    unsubscribe = store.subscribe(PODS, react)
    store.create(PODS, pod("nc-a", "a"))
    unsubscribe()
    store.create(PODS, pod("nc-a", "c"))
    assert seen == [("ADDED", "a"), ("ADDED", "b")]
    await asyncio.sleep(0)


def test_deleting_a_namespace_deletes_its_objects(store: Store) -> None:
    store.create(PODS, pod("nc-a", "p"))
    store.create(APPLICATIONS, {"metadata": {"name": "x", "namespace": "nc-a"}})
    store.delete(NAMESPACES, None, "nc-a")
    assert store.list(PODS, "nc-a") == [] and store.count(APPLICATIONS) == 0


def test_patches() -> None:
    env = [{"name": "X", "value": "1"}]
    doc = {
        "spec": {
            "containers": [{"name": "a", "image": "1", "env": env}, {"name": "b", "image": "1"}]
        },
        "keep": 1,
    }
    smp = strategic_merge_patch(
        doc,
        {
            "spec": {
                "containers": [
                    {"name": "a", "image": "2", "env": [{"name": "Y", "value": "2"}]},
                    {"name": "b", "$patch": "delete"},
                ]
            }
        },
    )
    assert smp["spec"]["containers"] == [
        {
            "name": "a",
            "image": "2",
            "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
        }
    ]
    merged = merge_patch(doc, {"keep": None, "spec": {"containers": []}})
    assert merged == {"spec": {"containers": []}}
    patched = json_patch(
        doc,
        [
            {"op": "replace", "path": "/spec/containers/1/image", "value": "9"},
            {"op": "add", "path": "/new", "value": True},
            {"op": "remove", "path": "/keep"},
        ],
    )
    assert (
        patched["spec"]["containers"][1]["image"] == "9"
        and patched["new"]
        and "keep" not in patched
    )
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "test", "path": "/keep", "value": 2}])
    assert doc["keep"] == 1  # inputs are never modified


def test_field_selectors_per_kind(store: Store) -> None:
    from ncconsole.sim.apiserver.resources import EVENTS

    p = store.create(PODS, {**pod("nc-a", "p"), "status": {"phase": "Running"}})
    store.create(
        EVENTS,
        {
            "metadata": {"name": "p.1", "namespace": "nc-a"},
            "reason": "Started",
            "involvedObject": {"kind": "Pod", "name": "p", "uid": p["metadata"]["uid"]},
        },
    )
    assert len(store.list(PODS, field_selector="status.phase=Running")) == 1
    assert len(store.list(PODS, field_selector="status.phase!=Running")) == 0
    assert len(store.list(EVENTS, field_selector="involvedObject.name=p,reason=Started")) == 1
    with pytest.raises(ApiError) as err:
        store.list(APPLICATIONS, field_selector="status.phase=Running")
    assert err.value.code == 400 and "field label not supported" in err.value.message


def test_finalizers_hold_a_deleted_object_until_removed(store: Store) -> None:
    app = {
        "metadata": {
            "name": "app",
            "namespace": "nc-a",
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        }
    }
    store.create(APPLICATIONS, app)
    marked = store.delete(APPLICATIONS, "nc-a", "app")
    assert marked["metadata"]["deletionTimestamp"]
    assert store.get(APPLICATIONS, "nc-a", "app")["metadata"]["deletionTimestamp"]
    store.update(APPLICATIONS, "nc-a", "app", lambda o: o["metadata"].update(finalizers=[]))
    assert store.try_get(APPLICATIONS, "nc-a", "app") is None
