"""The installed kubectl against the simulated API server, as an operator would use it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.sim.apiserver.exec_ws import ExecRequest
from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, PODS, SECRETS
from ncconsole.sim.apiserver.server import SimServer
from tests.fixtures.argocd_upstream import applied, load
from tests.sim.sim_helpers import KUBECTL

pytestmark = pytest.mark.timeout(60)
LABELS = {"app.kubernetes.io/name": "nextcloud", "app.kubernetes.io/instance": "nextcloud"}


async def occ(req: ExecRequest) -> int:
    if req.command[:3] == ["php", "occ", "status"]:
        await req.write_stdout("  - installed: true\n  - maintenance: false\n")
        return 0
    await req.write_stderr(f"sh: {req.command[0]}: not found\n")
    return 127


def seed(server: SimServer) -> None:
    store = server.store
    for ns in ("argocd", "nc-alpha", "nc-beta"):
        store.create(NAMESPACES, {"metadata": {"name": ns}})
    for tenant in ("alpha", "beta"):
        ns = f"nc-{tenant}"
        store.create(
            DEPLOYMENTS,
            {
                "metadata": {"name": "nextcloud", "namespace": ns},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": LABELS},
                    "template": {
                        "metadata": {"labels": LABELS},
                        "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30"}]},
                    },
                },
            },
        )
        store.create(
            PODS,
            {
                "metadata": {"name": "nextcloud-7d9f8-abcde", "namespace": ns, "labels": LABELS},
                "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30"}]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "nextcloud",
                            "ready": True,
                            "restartCount": 2,
                            "state": {"running": {}},
                        }
                    ],
                },
            },
        )
        store.create(
            APPLICATIONS,
            {
                "metadata": {"name": ns, "namespace": "argocd", "labels": {"tenant": tenant}},
                "spec": {"project": "default", "destination": {"namespace": ns}},
                "status": {"sync": {"status": "Synced"}, "health": {"status": "Progressing"}},
            },
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        srv.call(seed, srv)
        srv.api.exec_handler = occ
        srv.call(srv.auth.add_user, "viewer", "viewer-token", read_only=True)
        yield srv


@pytest.fixture(scope="module")
def env(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("kubectl-home")
    kubeconfig = server.write_kubeconfig(home / "kubeconfig")
    return {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "KUBECACHEDIR": str(home / "cache"),
        "HOME": str(home),
    }


def kubectl(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=30
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_get_pods_all_namespaces_prints_a_normal_table(env: dict[str, str]) -> None:
    proc = kubectl(env, "get", "pods", "-A")
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:5] == ["nc-alpha", "nextcloud-7d9f8-abcde", "1/1", "Running", "2"]
    assert len(lines) == 3 and proc.stderr == ""


def test_get_applications_as_json(env: dict[str, str]) -> None:
    doc = json.loads(kubectl(env, "get", "applications.argoproj.io", "-A", "-o", "json").stdout)
    assert [a["metadata"]["name"] for a in doc["items"]] == ["nc-alpha", "nc-beta"]
    assert doc["items"][0]["status"]["health"]["status"] == "Progressing"


def test_patch_merge_changes_the_object(server: SimServer, env: dict[str, str]) -> None:
    patch = json.dumps({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})
    proc = kubectl(
        env, "patch", "application", "nc-beta", "-n", "argocd", "--type", "merge", "-p", patch
    )
    assert "patched" in proc.stdout
    app = server.call(server.store.get, APPLICATIONS, "argocd", "nc-beta")
    assert app["metadata"]["annotations"]["argocd.argoproj.io/refresh"] == "normal"


def test_wait_for_jsonpath_returns_when_the_object_changes(
    server: SimServer, env: dict[str, str]
) -> None:
    def become_healthy() -> None:
        deadline = time.monotonic() + 20
        while server.call(server.store.watcher_count) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # kubectl is now watching the Application
        server.call(
            server.store.update,
            APPLICATIONS,
            "argocd",
            "nc-alpha",
            lambda o: o["status"].update(health={"status": "Healthy"}),
        )

    changer = threading.Thread(target=become_healthy)
    changer.start()
    proc = kubectl(
        env,
        "wait",
        "-n",
        "argocd",
        "application/nc-alpha",
        "--for=jsonpath={.status.health.status}=Healthy",
        "--timeout=20s",
    )
    changer.join()
    assert "condition met" in proc.stdout


def test_auth_can_i_answers_yes_and_no(
    server: SimServer, env: dict[str, str], tmp_path: Path
) -> None:
    assert (
        kubectl(
            env, "auth", "can-i", "patch", "applications.argoproj.io", "-n", "argocd"
        ).stdout.strip()
        == "yes"
    )
    viewer = {
        **env,
        "KUBECONFIG": str(
            server.write_kubeconfig(tmp_path / "viewer", user="viewer", token="viewer-token")
        ),
    }
    proc = kubectl(
        viewer, "auth", "can-i", "patch", "applications.argoproj.io", "-n", "argocd", check=False
    )
    assert (proc.returncode, proc.stdout.strip()) == (1, "no")
    assert kubectl(viewer, "auth", "can-i", "list", "pods", "-A").stdout.strip() == "yes"


def test_forbidden_is_reported_by_kubectl(
    server: SimServer, env: dict[str, str], tmp_path: Path
) -> None:
    viewer = {
        **env,
        "KUBECONFIG": str(
            server.write_kubeconfig(tmp_path / "viewer", user="viewer", token="viewer-token")
        ),
    }
    proc = kubectl(viewer, "delete", "pod", "-n", "nc-alpha", "nextcloud-7d9f8-abcde", check=False)
    assert proc.returncode == 1
    assert (
        'User "viewer" cannot delete resource "pods" in API group "" in the namespace "nc-alpha"'
        in proc.stderr
    )


def test_exec_through_the_deployment(env: dict[str, str]) -> None:
    proc = kubectl(env, "exec", "-n", "nc-alpha", "deploy/nextcloud", "--", "php", "occ", "status")
    assert proc.stdout == "  - installed: true\n  - maintenance: false\n"
    failed = kubectl(env, "exec", "-n", "nc-alpha", "deploy/nextcloud", "--", "nosuch", check=False)
    assert failed.returncode == 127 and "nosuch: not found" in failed.stderr


def test_create_namespace_and_secret_sent_as_protobuf(
    server: SimServer, env: dict[str, str]
) -> None:
    bad = kubectl(env, "create", "namespace", "Bad_Name", check=False)
    assert bad.returncode == 1 and 'The Namespace "Bad_Name" is invalid' in bad.stderr
    kubectl(env, "create", "namespace", "nc-gamma")
    kubectl(
        env, "create", "secret", "generic", "s3-keys", "-n", "nc-gamma", "--from-literal=key=abc"
    )
    secret = server.call(server.store.get, SECRETS, "nc-gamma", "s3-keys")
    assert secret["data"] == {"key": "YWJj"}


def test_scale_changes_the_deployment_replicas(server: SimServer, env: dict[str, str]) -> None:
    assert (
        "scaled"
        in kubectl(env, "scale", "deploy/nextcloud", "-n", "nc-beta", "--replicas=3").stdout
    )
    deployment = server.call(server.store.get, DEPLOYMENTS, "nc-beta", "nextcloud")
    assert deployment["spec"]["replicas"] == 3 and deployment["metadata"]["generation"] == 2


MANIFESTS = """\
apiVersion: v1
kind: Secret
metadata: {name: plain-create, namespace: nc-alpha}
stringData: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain-create, namespace: nc-alpha}
spec:
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: c, image: "nextcloud:30.0.6-apache"}]}
"""


def test_plain_create_and_apply_validate_through_openapi(
    env: dict[str, str], tmp_path: Path
) -> None:
    """kubectl validates by default: it needs /openapi/v3 (or v2), else 'failed to download
    openapi' and nothing is created."""
    manifest = tmp_path / "plain.yaml"
    manifest.write_text(MANIFESTS)
    created = kubectl(env, "create", "-f", str(manifest))
    assert "secret/plain-create created" in created.stdout
    assert "deployment.apps/plain-create created" in created.stdout
    applied = kubectl(env, "apply", "-f", str(manifest))
    assert "deployment.apps/plain-create configured" in applied.stdout


def test_apply_of_an_upstream_application_and_strict_field_validation(
    env: dict[str, str], tmp_path: Path
) -> None:
    doc = applied(load("applications", "09-docs-operator-manual-application"), name="docs-app")
    path = tmp_path / "app.yaml"
    path.write_text(json.dumps(doc))
    assert (
        "application.argoproj.io/docs-app created" in kubectl(env, "apply", "-f", str(path)).stdout
    )
    assert "unchanged" in kubectl(env, "apply", "-f", str(path)).stdout
    doc["spec"]["sourcePositions"] = [1]
    doc["metadata"]["name"] = "typo-app"
    path.write_text(json.dumps(doc))
    refused = kubectl(env, "create", "-f", str(path), check=False)
    assert refused.returncode == 1
    assert 'strict decoding error: unknown field "spec.sourcePositions"' in refused.stderr


def test_openapi_v2_is_served_as_protobuf_and_json(server: SimServer, env: dict[str, str]) -> None:
    raw = kubectl(env, "get", "--raw", "/openapi/v2").stdout  # kubectl asks for JSON here
    assert json.loads(raw)["swagger"] == "2.0"
    index = json.loads(kubectl(env, "get", "--raw", "/openapi/v3").stdout)
    assert {"api/v1", "apis/apps/v1", "apis/argoproj.io/v1alpha1"} <= set(index["paths"])
    core = json.loads(kubectl(env, "get", "--raw", "/openapi/v3/api/v1").stdout)
    patch = core["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "",
        "version": "v1",
        "kind": "Secret",
    }
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
