"""Writes the console makes, accepted by an apiserver as strict as the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.kube.connection import connect
from ncconsole.kube.events import record_event
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.resources import EVENTS, NAMESPACES
from ncconsole.sim.apiserver.server import SimServer

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path / "tls") as server:
        server.call(server.store.create, NAMESPACES, {"metadata": {"name": "nc-a"}})
        yield server


def test_audit_event_about_the_tenant_namespace_is_accepted(sim: SimServer, tmp_path: Path) -> None:
    """legacyValidateEvent (kubernetes pkg/apis/core/validation/events.go) refuses an Event
    in nc-a whose involvedObject names no namespace: 422, and no audit trail at all."""
    conn = connect(Settings(kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig")))
    record_event(conn, "nc-a", reason="NcconsoleSecret", message="created nextcloud-secrets")
    (event,) = sim.call(sim.store.list, EVENTS, "nc-a")
    assert event["involvedObject"] == {
        "kind": "Namespace", "name": "nc-a", "namespace": "nc-a", "apiVersion": "v1"
    }  # fmt: skip
    assert event["reason"] == "NcconsoleSecret"
