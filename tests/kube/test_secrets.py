"""S3 credentials read from the tenants' Secrets through the simulator's API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.kube.connection import connect
from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import NAMESPACES, SECRETS
from ncconsole.sim.apiserver.server import SimServer

pytestmark = pytest.mark.timeout(20)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path / "tls") as server:
        for ns in ("nc-a", "nc-b"):
            server.call(server.store.create, NAMESPACES, {"metadata": {"name": ns}})
        secret = {
            "metadata": {"name": "nextcloud-secrets", "namespace": "nc-a"},
            "data": {"s3-access-key": b64("AKIA-A"), "s3-secret-key": b64("very-secret")},
        }
        server.call(server.store.create, SECRETS, secret)
        other = {"metadata": {"name": "unrelated", "namespace": "nc-b"}, "data": {}}
        server.call(server.store.create, SECRETS, other)
        yield server


def reader(sim: SimServer, tmp_path: Path, **kw) -> TenantSecretReader:
    settings = Settings(kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig", **kw))
    return TenantSecretReader(connect(settings), settings)


def test_tenant_keys_are_read_and_the_secret_is_not_shown(sim: SimServer, tmp_path: Path) -> None:
    creds = reader(sim, tmp_path).credentials("nc-a")
    assert creds is not None
    assert (creds.access_key, creds.secret_key) == ("AKIA-A", "very-secret")
    assert "very-secret" not in repr(creds)


def test_tenant_without_secret_and_forbidden_secrets_give_none(
    sim: SimServer, tmp_path: Path
) -> None:
    assert reader(sim, tmp_path).credentials("nc-b") is None
    sim.call(sim.auth.add_user, "viewer", "viewer-token")
    sim.call(sim.auth.deny, DenyRule(user="viewer", resources=("secrets",)))
    limited = reader(sim, tmp_path, user="viewer", token="viewer-token")
    assert limited.credentials("nc-a") is None
    assert limited.problem == "forbidden"


def test_namespace_bound_user_reads_each_tenant_secret_on_its_own(
    sim: SimServer, tmp_path: Path
) -> None:
    """RBAC allows the list of /api/v1/secrets only cluster-wide: an engineer bound in the
    tenant namespaces gets 403 there, and the reader falls back to one GET per namespace."""
    sim.call(sim.auth.add_user, "engineer", "engineer-token", namespaces=("nc-a",))
    engineer = reader(sim, tmp_path, user="engineer", token="engineer-token")
    creds = engineer.credentials("nc-a")
    assert creds is not None and creds.access_key == "AKIA-A"
    assert engineer.problem == "forbidden"  # the list across namespaces
    assert engineer.credentials("nc-b") is None  # no RoleBinding in nc-b: nothing to read
