"""KindWatcher against the simulator's HTTPS API: list, watch, resume, relist on 410."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.kube.watch import KindStatus, KindWatcher, WatchSpec
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.resources import NAMESPACES, SECRETS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from tests.sim.sim_helpers import FAST

pytestmark = pytest.mark.timeout(20)


class RecordingSink:
    def __init__(self) -> None:
        self.items: dict[Any, Any] = {}
        self.replaces = 0
        self.statuses: list[KindStatus] = []
        self.namespaces: dict[str, KindStatus] = {}
        self._cond = threading.Condition()

    def _changed(self) -> None:
        self._cond.notify_all()

    def replace(self, kind: str, items: dict, namespace: str | None = None) -> None:
        with self._cond:
            if namespace is None:
                self.items = dict(items)
            else:
                self.items = {k: v for k, v in self.items.items() if k[0] != namespace} | items
            self.replaces += 1
            self._changed()

    def upsert(self, kind: str, key: Any, view: Any) -> None:
        with self._cond:
            self.items[key] = view
            self._changed()

    def delete(self, kind: str, key: Any) -> None:
        with self._cond:
            self.items.pop(key, None)
            self._changed()

    def kind_status(self, kind: str, status: KindStatus, message: str = "") -> None:
        with self._cond:
            self.statuses.append(status)
            self._changed()

    def namespace_status(
        self, kind: str, namespace: str, status: KindStatus, message: str = ""
    ) -> None:
        with self._cond:
            self.namespaces[namespace] = status
            self._changed()

    def contact(self, ok: bool, error: str = "") -> None:
        pass

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                assert remaining > 0, "condition not met in time"
                self._cond.wait(remaining)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def secret(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "nc-a"}, "data": {}}


NAMES = WatchSpec("secrets", "/api/v1/namespaces/nc-a/secrets", lambda o: o["metadata"]["name"])


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path / "tls", store=Store(history_limit=5)) as server:
        server.call(server.store.create, NAMESPACES, {"metadata": {"name": "nc-a"}})
        yield server


@pytest.fixture
def conn(sim: SimServer, tmp_path: Path) -> KubeConnection:
    return connect(Settings(kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig")))


def test_watch_that_resumes_from_an_expired_version_relists(
    sim: SimServer, conn: KubeConnection
) -> None:
    for i in range(10):  # more writes than the server's history holds
        sim.call(sim.store.create, SECRETS, secret(f"s{i}"))
    sink = RecordingSink()
    watcher = KindWatcher(conn, NAMES, sink, FAST)
    watcher.resource_version = "2"  # as if resuming after a long disconnect
    watcher.start()
    try:
        sink.wait_until(lambda: sink.replaces == 1 and len(sink.items) == 10)
        assert KindStatus.LIVE in sink.statuses
        sim.call(sim.store.create, SECRETS, secret("after"))
        sink.wait_until(lambda: ("nc-a", "after") in sink.items)
    finally:
        watcher.stop()


def test_dropped_watches_resume_without_relisting(sim: SimServer, conn: KubeConnection) -> None:
    sim.call(setattr, sim.api.faults, "drop_watches_after", 0.2)
    sink = RecordingSink()
    watcher = KindWatcher(conn, NAMES, sink, FAST)
    watcher.start()
    try:
        sink.wait_until(lambda: sink.replaces == 1)
        for i in range(3):
            # Each change lands after the previous stream was dropped and resumed.
            opened = watcher.streams_opened
            wait_for(lambda opened=opened: watcher.streams_opened > opened)
            sim.call(sim.store.create, SECRETS, secret(f"late{i}"))
            sink.wait_until(lambda i=i: ("nc-a", f"late{i}") in sink.items)
        sim.call(sim.store.delete, SECRETS, "nc-a", "late0")
        sink.wait_until(lambda: ("nc-a", "late0") not in sink.items)
        assert sink.replaces == 1 and watcher.lists == 1
    finally:
        watcher.stop()


def test_missing_resource_type_is_reported_not_raised(conn: KubeConnection) -> None:
    sink = RecordingSink()
    spec = WatchSpec("widgets", "/apis/example.com/v1/widgets", lambda o: o)
    watcher = KindWatcher(conn, spec, sink, FAST)
    watcher.start()
    try:
        sink.wait_until(lambda: KindStatus.ERROR in sink.statuses)
    finally:
        watcher.stop()


def test_a_list_comes_in_pages_and_arrives_whole(sim: SimServer, conn: KubeConnection) -> None:
    for i in range(12):
        sim.call(sim.store.create, SECRETS, secret(f"s{i:02d}"))
    sink = RecordingSink()
    watcher = KindWatcher(conn, NAMES, sink, replace(FAST, list_page=5))
    watcher.start()
    try:
        sink.wait_until(lambda: sink.replaces == 1)
        assert len(sink.items) == 12  # one replace with every page's objects
        assert (watcher.lists, watcher.list_requests) == (1, 3)
        sim.call(sim.store.create, SECRETS, secret("after"))  # watched from the list's version
        sink.wait_until(lambda: ("nc-a", "after") in sink.items)
    finally:
        watcher.stop()
