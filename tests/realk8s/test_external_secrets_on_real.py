"""`secret create --mode external-secrets` on the real control plane, with the simulator's
External Secrets controller (on RemoteStore) as the operator: the console creates the
ExternalSecret, the controller makes the Secret and reports Ready through the CRD's status
subresource, and the console waits for that."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ncconsole.ops.audit import Auditor
from ncconsole.ops.secrets import SecretRequest, create_tenant_secret
from ncconsole.sim.apiserver.resources import CLUSTERSECRETSTORES
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.externalsecrets import ExternalSecretsController
from tests.realk8s.cluster import RealCluster
from tests.realk8s.remote_store import ControllerThread, RemoteStore


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NCCONSOLE_CONFIG", raising=False)


def ready_store(store: RemoteStore) -> None:
    if store.try_get(CLUSTERSECRETSTORES, None, "vault") is None:
        store.create(
            CLUSTERSECRETSTORES,
            {"metadata": {"name": "vault"}, "spec": {"provider": {"vault": {"server": "x"}}}},
        )

    def ready(obj: dict) -> None:
        obj["status"] = {
            "capabilities": "ReadWrite",
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Valid", "message": "store validated"}
            ],
        }

    store.update(CLUSTERSECRETSTORES, None, "vault", ready)


@pytest.mark.parametrize("user", ["engineer"])
def test_external_secret_created_by_the_console_becomes_ready(
    real_cluster: RealCluster, user: str
) -> None:
    real_cluster.add_tenant("rk-eso", 0, replicas=0)
    real_cluster.kubectl(
        "delete", "secret", "-n", "nc-rk-eso", "nextcloud-secrets", "--ignore-not-found"
    )
    real_cluster.kubectl(
        "delete", "externalsecret", "-n", "nc-rk-eso", "nextcloud-secrets", "--ignore-not-found"
    )
    store = RemoteStore(
        real_cluster.server, str(real_cluster.ca_file), real_cluster._tokens["admin"]
    )
    ready_store(store)
    loop = ControllerThread().start()
    controller = ExternalSecretsController(store, EventRecorder(store))  # type: ignore[arg-type]
    loop.call(controller.start)
    try:
        settings = real_cluster.settings(user)
        conn = real_cluster.connection(user)
        result = create_tenant_secret(
            conn, settings, SecretRequest("rk-eso", mode="external-secrets", wait_timeout=30),
            auditor=Auditor(settings, conn),
        )  # fmt: skip
    finally:
        loop.call(controller.stop)
        loop.stop()
        store.close()
    assert result.ready, result.message
    path = "/apis/external-secrets.io/v1/namespaces/nc-rk-eso/externalsecrets/nextcloud-secrets"
    external = real_cluster.get(path)
    assert external["status"]["conditions"][0]["reason"] == "SecretSynced"
    secret = real_cluster.get("/api/v1/namespaces/nc-rk-eso/secrets/nextcloud-secrets")
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "ExternalSecret"
    assert base64.b64decode(secret["data"]["db-password"])
