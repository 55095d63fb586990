"""ExternalSecret mode on the simulated platform, whose External Secrets controller syncs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ncconsole.kube.connection import connect
from ncconsole.ops.audit import Auditor, read_audit
from ncconsole.ops.errors import OpsError
from ncconsole.ops.secret_rotation import rotate_secret_keys
from ncconsole.ops.secrets import SecretRequest, create_tenant_secret
from ncconsole.settings import Settings, load_settings
from ncconsole.sim.apiserver.resources import SECRETS
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    scenario = Scenario.model_validate({"tenants": [{"name": "canary", "wave": 0, "replicas": 1}]})
    with Simulator(scenario, workdir=tmp_path_factory.mktemp("sim")) as running:
        yield running


def settings_for(sim: Simulator, **overrides: object) -> Settings:
    os.environ["NCCONSOLE_CONFIG"] = str(sim.config_path)
    try:
        return load_settings(**overrides)
    finally:
        del os.environ["NCCONSOLE_CONFIG"]


def test_external_secret_synced_and_reported_ready(sim: Simulator) -> None:
    settings = settings_for(sim)
    conn = connect(settings)
    auditor = Auditor(settings, conn)
    request = SecretRequest("newco", "external-secrets", create_namespace=True, wait_timeout=10)
    result = create_tenant_secret(conn, settings, request, auditor=auditor)
    assert result.ready is True and result.namespace_created
    secret = sim.call(sim.store.try_get, SECRETS, "nc-newco", "nextcloud-secrets")
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "ExternalSecret"
    assert len(secret["data"]) == 7
    assert read_audit()[-1]["result"] == "ok"
    # Values owned by the secret store are not rotated here.
    with pytest.raises(OpsError) as err:
        rotate_secret_keys(conn, settings, "newco", ["db-password"], auditor=auditor)
    assert "managed by an ExternalSecret" in str(err.value)


def test_store_not_ready_is_reported_within_the_timeout(sim: Simulator) -> None:
    settings = settings_for(sim)
    settings.secret.store_name = "no-such-store"
    conn = connect(settings)
    request = SecretRequest("other", "external-secrets", create_namespace=True, wait_timeout=1)
    result = create_tenant_secret(conn, settings, request, auditor=Auditor(settings, conn))
    assert result.ready is False
    assert 'ClusterSecretStore "no-such-store" not ready' in result.message
    assert read_audit()[-1]["result"] == "not-ready"
