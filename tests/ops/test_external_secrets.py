"""ExternalSecret mode on the simulated platform, whose External Secrets controller syncs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import connect
from ncconsole.kube.writes import eso_api
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


def test_an_eso_that_serves_only_v1beta1_is_used_at_v1beta1(tmp_path) -> None:
    """external-secrets.io/v1 is served from ESO 0.16.2 on (external-secrets#4840): before,
    only v1beta1. The console asks discovery instead of assuming v1, which answered 404 (no
    ExternalSecret, the secret store watch 'not installed')."""
    scenario = Scenario.model_validate(
        {
            "external_secrets_versions": ["v1beta1"],
            "tenants": [{"name": "older", "wave": 0, "replicas": 1}],
        }
    )
    with Simulator(scenario, workdir=tmp_path / "sim") as old_eso:
        settings = settings_for(old_eso)
        conn = connect(settings)
        assert eso_api(conn) == "external-secrets.io/v1beta1"
        request = SecretRequest("beta", "external-secrets", create_namespace=True, wait_timeout=10)
        result = create_tenant_secret(conn, settings, request, auditor=Auditor(settings, conn))
        assert result.ready is True
        fleet = FleetState(settings, connection=conn, probes=False)
        fleet.start()
        try:
            snapshot = fleet.wait_for(lambda s: s.platform.secret_store_ready is not None, 10)
            assert snapshot.platform.secret_store_ready is True
        finally:
            fleet.stop()
    both = Scenario.model_validate(
        {"external_secrets_versions": ["v1", "v1beta1"], "tenants": [{"name": "mid", "wave": 0}]}
    )
    with Simulator(both, workdir=tmp_path / "both") as mid:
        assert eso_api(connect(settings_for(mid))) == "external-secrets.io/v1"
