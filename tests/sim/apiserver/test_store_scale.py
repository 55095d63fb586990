"""The simulator at platform scale: 2,000 tenants, 6,000 pods, listed over HTTPS quickly."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from ncconsole.sim.apiserver.resources import APPLICATIONS, NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store

pytestmark = pytest.mark.timeout(60)
TENANTS = 2000


def seed(store: Store) -> None:
    store.create(NAMESPACES, {"metadata": {"name": "argocd"}})
    for i in range(TENANTS):
        ns = f"nc-tenant-{i:04d}"
        store.create(NAMESPACES, {"metadata": {"name": ns}})
        for j in range(3):
            store.create(
                PODS,
                {
                    "metadata": {
                        "name": f"nextcloud-7d9f8c6b5-{j}{i:04d}",
                        "namespace": ns,
                        "labels": {"app.kubernetes.io/name": "nextcloud"},
                    },
                    "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30.0.1"}]},
                    "status": {"phase": "Running"},
                },
            )
        store.create(
            APPLICATIONS,
            {"metadata": {"name": ns, "namespace": "argocd", "labels": {"wave": str(i % 5)}}},
        )


def test_listing_every_pod_of_2000_tenants(tmp_path: Path) -> None:
    """Every pod of 2,000 tenants in one list (how fast: benchmarks/sim_speed.py)."""
    with SimServer(tls_dir=tmp_path) as server:
        server.call(seed, server.store)
        headers = {"Authorization": f"Bearer {server.admin_token}"}
        with httpx.Client(verify=server.tls.client_context(), timeout=30) as http:
            resp = http.get(f"{server.url}/api/v1/pods", headers=headers)
            assert len(resp.json()["items"]) == 3 * TENANTS
            wave = http.get(
                f"{server.url}/apis/argoproj.io/v1alpha1/applications",
                params={"labelSelector": "wave=0"},
                headers=headers,
            )
            assert len(wave.json()["items"]) == TENANTS // 5


def test_stop_ends_open_watches_promptly(tmp_path: Path) -> None:
    server = SimServer(tls_dir=tmp_path).start()
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    ended = threading.Event()

    def watch() -> None:
        with (
            httpx.Client(verify=server.tls.client_context(), timeout=30) as http,
            http.stream("GET", f"{server.url}/api/v1/pods?watch=1", headers=headers) as resp,
        ):
            for _ in resp.iter_lines():
                pass
        ended.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while server.call(server.store.watcher_count) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    server.stop()
    assert ended.wait(5), "the client's watch stream did not end"
