"""Watches on the simulated API server, through kubernetes.watch.Watch and raw HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from ncconsole.sim.apiserver.resources import NAMESPACES, SECRETS
from ncconsole.sim.apiserver.routes import Faults
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls"), store=Store(history_limit=100)) as srv:
        srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": "nc-w"}})
        srv.api.bookmark_interval = 0.2
        yield srv


@pytest.fixture(scope="module")
def v1(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.CoreV1Api:
    path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    return client.CoreV1Api(config.new_client_from_config(str(path)))


@pytest.fixture(autouse=True)
def healthy_server(server: SimServer) -> Iterator[None]:
    yield
    server.call(setattr, server.api, "faults", Faults())


def secret(server: SimServer, name: str, value: str = "1") -> str:
    """Create or change a secret from the server side; return its new resourceVersion."""

    def write() -> dict:
        if server.store.try_get(SECRETS, "nc-w", name) is None:
            return server.store.create(
                SECRETS, {"metadata": {"name": name, "namespace": "nc-w"}, "data": {"v": value}}
            )
        return server.store.update(SECRETS, "nc-w", name, lambda o: {**o, "data": {"v": value}})

    return server.call(write)["metadata"]["resourceVersion"]


def wait_for_watchers(server: SimServer, count: int) -> None:
    deadline = time.monotonic() + 5
    while server.call(server.store.watcher_count) != count:
        assert time.monotonic() < deadline, "watch count never reached"
        time.sleep(0.02)


def test_watch_from_a_version_sees_only_later_events(
    server: SimServer, v1: client.CoreV1Api
) -> None:
    rv = secret(server, "before")
    events: list[tuple[str, str]] = []

    def consume() -> None:
        for ev in watch.Watch().stream(
            v1.list_namespaced_secret, "nc-w", resource_version=rv, timeout_seconds=2
        ):
            events.append((ev["type"], ev["object"].metadata.name))
            if ev["object"].metadata.name == "after":
                break

    thread = threading.Thread(target=consume)
    thread.start()
    wait_for_watchers(server, 1)
    secret(server, "after")
    thread.join(5)
    assert events == [("ADDED", "after")]


def test_a_watch_without_version_starts_with_the_current_objects(
    server: SimServer, v1: client.CoreV1Api
) -> None:
    secret(server, "present")
    w, seen = watch.Watch(), []
    for ev in w.stream(v1.list_namespaced_secret, "nc-w", timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "present":
            w.stop()
    assert ("ADDED", "present") in seen and {t for t, _ in seen} == {"ADDED"}


def test_bookmarks_arrive_periodically_and_at_the_end(
    server: SimServer, v1: client.CoreV1Api
) -> None:
    rv = secret(server, "marked")
    started = time.monotonic()
    types = [
        ev["type"]
        for ev in watch.Watch().stream(
            v1.list_namespaced_secret,
            "nc-w",
            resource_version=rv,
            allow_watch_bookmarks=True,
            timeout_seconds=1,
        )
    ]
    assert time.monotonic() - started >= 1  # timeoutSeconds (1 s) ended the stream
    assert types.count("BOOKMARK") >= 3 and types[-1] == "BOOKMARK"


def test_a_version_older_than_the_history_is_410_expired(
    server: SimServer, v1: client.CoreV1Api
) -> None:
    old = secret(server, "old")
    for i in range(120):  # the fixture keeps 100 events
        secret(server, "old", str(i))
    with pytest.raises(ApiException) as exc:
        list(
            watch.Watch().stream(
                v1.list_namespaced_secret, "nc-w", resource_version=old, timeout_seconds=1
            )
        )
    assert exc.value.status == 410 and "Expired" in exc.value.reason


def test_dropped_watches_end_early(server: SimServer, v1: client.CoreV1Api) -> None:
    server.call(setattr, server.api, "faults", Faults(drop_watches_after=0.3))
    rv = secret(server, "dropped")
    started = time.monotonic()
    list(
        watch.Watch().stream(
            v1.list_namespaced_secret, "nc-w", resource_version=rv, timeout_seconds=10
        )
    )
    assert time.monotonic() - started < 10  # dropped by the fault, not ended by its timeout
    wait_for_watchers(server, 0)


def test_slow_api_fault_delays_every_answer(server: SimServer, v1: client.CoreV1Api) -> None:
    server.call(setattr, server.api, "faults", Faults(latency=0.4))
    started = time.monotonic()
    v1.list_namespaced_secret("nc-w")
    assert time.monotonic() - started >= 0.4


def test_send_initial_events_ends_with_the_marked_bookmark(server: SimServer) -> None:
    secret(server, "initial")
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    url = (
        f"{server.url}/api/v1/namespaces/nc-w/secrets?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
    )
    with (
        httpx.Client(verify=server.tls.client_context()) as http,
        http.stream("GET", url, headers=headers) as resp,
    ):
        events = [json.loads(line) for line in resp.iter_lines() if line]
    marked = [
        e
        for e in events
        if e["type"] == "BOOKMARK"
        and e["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end")
    ]
    assert len(marked) == 1
    before = events[: events.index(marked[0])]
    assert before and all(e["type"] == "ADDED" for e in before)


def test_closed_client_watches_leave_no_watchers_behind(server: SimServer) -> None:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    url = f"{server.url}/api/v1/namespaces/nc-w/secrets?watch=1"
    with httpx.Client(verify=server.tls.client_context()) as http:
        for _ in range(3):
            with http.stream("GET", url, headers=headers) as resp:
                assert resp.status_code == 200
    wait_for_watchers(server, 0)


def test_slow_namespace_fault_delays_only_that_namespace(
    server: SimServer, v1: client.CoreV1Api
) -> None:
    server.call(setattr, server.api, "faults", Faults(namespace_latency={"nc-w": 0.5}))
    started = time.monotonic()
    v1.list_namespaced_secret("default")
    fast = time.monotonic() - started
    v1.list_namespaced_secret("nc-w")
    assert time.monotonic() - started - fast >= 0.5  # only nc-w waited the extra 0.5 s
