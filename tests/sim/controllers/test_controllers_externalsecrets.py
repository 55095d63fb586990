"""External Secrets Operator in a running simulator: ExternalSecrets and their Secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, scenario, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    spec = scenario([{"name": "alpha", "wave": 0, "replicas": 1}])
    with Simulator(spec, workdir=tmp_path_factory.mktemp("eso")) as running:
        yield running


def external_secret(name: str, store: str) -> dict:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": "nc-alpha"},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": [
                {"secretKey": "smtp-password",
                 "remoteRef": {"key": "nextcloud/alpha", "property": "smtp"}},
            ],
        },
    }  # fmt: skip


def ready_condition(sim: Simulator, name: str) -> dict | None:
    es = client.CustomObjectsApi(api_client(sim)).get_namespaced_custom_object(
        "external-secrets.io", "v1", "nc-alpha", "externalsecrets", name
    )
    conditions = (es.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == "Ready"), None)


def test_external_secret_becomes_ready_and_creates_its_secret(sim: Simulator) -> None:
    client.CustomObjectsApi(api_client(sim)).create_namespaced_custom_object(
        "external-secrets.io", "v1", "nc-alpha", "externalsecrets",
        external_secret("nextcloud-extra", "vault"),
    )  # fmt: skip
    cond = wait_until(lambda: ready_condition(sim, "nextcloud-extra"), what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("True", "SecretSynced")
    secret = client.CoreV1Api(api_client(sim)).read_namespaced_secret("nextcloud-extra", "nc-alpha")
    assert list(secret.data) == ["smtp-password"]
    assert secret.metadata.owner_references[0].kind == "ExternalSecret"


def test_external_secret_with_a_missing_store_is_not_ready(sim: Simulator) -> None:
    client.CustomObjectsApi(api_client(sim)).create_namespaced_custom_object(
        "external-secrets.io", "v1", "nc-alpha", "externalsecrets",
        external_secret("nextcloud-orphan", "no-such-store"),
    )  # fmt: skip
    cond = wait_until(lambda: ready_condition(sim, "nextcloud-orphan"), what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "SecretSyncedError")
    assert "no-such-store" in cond["message"]
    secrets = client.CoreV1Api(api_client(sim)).list_namespaced_secret("nc-alpha").items
    assert "nextcloud-orphan" not in {s.metadata.name for s in secrets}
