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
