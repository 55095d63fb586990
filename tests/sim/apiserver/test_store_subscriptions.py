"""In-process controllers on the store: what a client sees when one reacts to its writes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import urllib3
from kubernetes import client, config

from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store

pytestmark = pytest.mark.timeout(30)


async def kubelet(store: Store) -> None:
    """A toy controller: every new pod becomes Running."""
    async for ev in store.watch(PODS):
        if ev.type == "ADDED" and ev.obj["status"].get("phase") == "Pending":
            meta = ev.obj["metadata"]
            store.update(
                PODS, meta["namespace"], meta["name"], lambda o: o["status"].update(phase="Running")
            )
            await asyncio.sleep(0)


def test_a_spawned_controller_reacts_to_client_writes(tmp_path: Path) -> None:
    with SimServer(tls_dir=tmp_path) as server:
        server.call(server.store.create, NAMESPACES, {"metadata": {"name": "nc-k"}})
        server.spawn(kubelet, server.store)
        v1 = client.CoreV1Api(
            config.new_client_from_config(str(server.write_kubeconfig(tmp_path / "kubeconfig")))
        )
        v1.create_namespaced_pod(
            "nc-k", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
        )
        deadline = time.monotonic() + 5
        while v1.read_namespaced_pod("p", "nc-k").status.phase != "Running":
            assert time.monotonic() < deadline, "the controller never ran"
            time.sleep(0.02)
    assert server.store.watcher_count() == 0  # stop() cancelled the controller and its watch


def test_an_api_outage_keeps_the_cluster_state(tmp_path: Path) -> None:
    with SimServer(tls_dir=tmp_path) as server:
        v1 = client.CoreV1Api(
            config.new_client_from_config(str(server.write_kubeconfig(tmp_path / "kubeconfig")))
        )
        v1.create_namespace({"metadata": {"name": "nc-kept"}})
        port = server.port
        server.stop_listening()
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            v1.read_namespace("nc-kept", _request_timeout=2)
        server.start_listening()
        assert server.port == port and v1.read_namespace("nc-kept").status.phase == "Active"
