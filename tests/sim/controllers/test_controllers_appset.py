"""The ApplicationSet's git generator: tenant files added to or removed from the repo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from ncconsole.sim.platform_repo.files import tenant_file
from ncconsole.sim.scenario import TenantSpec
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import api_client, scenario, wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim(tmp_path) -> Iterator[Simulator]:
    spec = scenario([{"name": "canary", "wave": 0, "replicas": 1}])
    with Simulator(spec, workdir=tmp_path) as running:
        yield running


def get_app(sim: Simulator, name: str) -> dict | None:
    try:
        return client.CustomObjectsApi(api_client(sim)).get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", name
        )
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def test_a_new_tenant_file_becomes_an_application_that_deploys_once_its_secret_exists(
    sim: Simulator,
) -> None:
    newbie = TenantSpec(name="newbie", wave=2, hostname="newbie.nextcloud.example.com",
                        bucket="nextcloud-newbie", replicas=1)  # fmt: skip
    sim.commit("Add tenant newbie", {"values/tenants/tenant-newbie.yaml": tenant_file(newbie, 1)})
    app = wait_until(lambda: get_app(sim, "nc-newbie"), what="the generated Application")
    assert app["metadata"]["labels"] == {"tenant": "newbie", "wave": "2"}
    assert app["status"]["sync"]["status"] == "OutOfSync"
    assert app["status"]["health"]["status"] == "Missing"

    custom = client.CustomObjectsApi(api_client(sim))
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "nc-newbie",
        {"operation": {"initiatedBy": {"username": "ncconsole:t"}, "sync": {}}},
    )  # fmt: skip
    core = client.CoreV1Api(api_client(sim))

    def waiting_reason() -> str:
        pods = core.list_namespaced_pod("nc-newbie").items if get_app(sim, "nc-newbie") else []
        states = [cs.state.waiting for p in pods for cs in p.status.container_statuses or []]
        return next((w.reason for w in states if w), "")

    wait_until(
        lambda: waiting_reason() == "CreateContainerConfigError",
        what="the pod to wait for its missing secret",
    )
    assert get_app(sim, "nc-newbie")["status"]["health"]["status"] == "Progressing"

    core.create_namespaced_secret(
        "nc-newbie",
        {"metadata": {"name": "nextcloud-secrets"}, "stringData": {"db-password": "x"}},
    )
    wait_until(
        lambda: get_app(sim, "nc-newbie")["status"]["health"]["status"] == "Healthy",
        what="nc-newbie Healthy once its secret exists",
    )

    sim.commit("Remove tenant newbie", {"values/tenants/tenant-newbie.yaml": None})
    wait_until(lambda: get_app(sim, "nc-newbie") is None, what="the Application to go")
    wait_until(lambda: core.list_namespaced_pod("nc-newbie").items == [], what="its pods to go")
    assert core.read_namespace("nc-newbie").status.phase == "Active"  # Argo CD leaves it
