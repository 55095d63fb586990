"""The real control plane started by scripts/realk8s.sh, as the tests use it.

`RealCluster` reads the script's env file and gives what a test needs: a kubeconfig and an
ncconsole `KubeConnection` per user (admin, viewer, engineer), raw HTTP for status codes and
bodies, a compaction of etcd (so that old resourceVersions answer 410), and `add_tenant`, which
puts one tenant on the cluster the way the platform has it: its namespace with the engineer's
RoleBinding, the Secret, Service and Deployment the chart renders (kube-controller-manager then
makes the ReplicaSet and Pods, kwok runs them) and its Application, plus a kwok ClusterExec so
that exec into its pods reaches the simulated occ (tests/realk8s/nextcloud_shim.py).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ncconsole.kube.connection import ApiStatusError, KubeConnection, connect
from ncconsole.settings import Settings
from ncconsole.sim.nextcloud.manifests import (
    namespace_manifest,
    nextcloud_deployment,
    service_manifest,
)
from ncconsole.sim.platform_repo.repo import DesiredVersion
from ncconsole.sim.s3 import S3Credentials
from ncconsole.sim.scenario import TenantSpec
from ncconsole.sim.seed import application, tenant_secret

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "realk8s.sh"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
USERS = ("admin", "viewer", "engineer")
RELEASE = DesiredVersion("6.6.4", "30.0.6-apache")
T = TypeVar("T")
Obj = dict[str, Any]


def wait_until(check: Callable[[], T], timeout: float = 60.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@dataclass
class RealCluster:
    directory: Path
    server: str
    etcd: str
    ca_file: Path
    kubeconfigs: dict[str, Path]
    nextcloud_dir: Path
    versions: str
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _connections: dict[str, KubeConnection] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env_file(cls, path: Path) -> RealCluster:
        values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        directory = Path(values["NCCONSOLE_REALK8S_DIR"])
        tokens = {}
        for line in (directory / "tokens.csv").read_text().splitlines():
            token, user, *_ = line.split(",")
            tokens[user] = token
        return cls(
            directory=directory,
            server=values["NCCONSOLE_REALK8S_SERVER"],
            etcd=values["NCCONSOLE_REALK8S_ETCD"],
            ca_file=Path(values["NCCONSOLE_REALK8S_CA"]),
            kubeconfigs={
                u: Path(values[f"NCCONSOLE_REALK8S_KUBECONFIG_{u.upper()}"]) for u in USERS
            },
            nextcloud_dir=Path(values["NCCONSOLE_REALK8S_NEXTCLOUD_DIR"]),
            versions=values["NCCONSOLE_REALK8S_VERSIONS"],
            _tokens=tokens,
        )

    # -- clients ---------------------------------------------------------------------------

    def settings(self, user: str = "admin", **extra: Any) -> Settings:
        return Settings(kubeconfig=self.kubeconfigs[user], **extra)

    def connection(self, user: str = "admin") -> KubeConnection:
        return connect(self.settings(user))

    def http(self, user: str = "admin") -> httpx.Client:
        """Raw HTTPS to the apiserver as `user`, for status codes and bodies as sent."""
        return httpx.Client(
            base_url=self.server,
            verify=ssl.create_default_context(cafile=str(self.ca_file)),
            headers={"Authorization": f"Bearer {self._tokens[user]}"},
            timeout=30,
        )

    def kubectl(
        self, *args: str, user: str = "admin", check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        home = self.directory / "kubectl-home"
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfigs[user]),
            "HOME": str(home),
            "KUBECACHEDIR": str(home / "cache" / user),
        }
        proc = subprocess.run(
            [str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check:
            assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc

    # -- etcd ------------------------------------------------------------------------------

    def etcd_revision(self) -> int:
        # etcd's gRPC gateway: JSON over HTTP on the client URL, no etcdctl needed.
        answer = httpx.post(f"{self.etcd}/v3/kv/range", json={"key": _b64("/")}, timeout=10)
        answer.raise_for_status()
        return int(answer.json()["header"]["revision"])

    def compact_etcd(self) -> int:
        """Compact etcd at its current revision (what the apiserver does every 5 minutes);
        returns that revision."""
        revision = self.etcd_revision()
        answer = httpx.post(
            f"{self.etcd}/v3/kv/compaction",
            json={"revision": str(revision), "physical": True},
            timeout=30,
        )
        answer.raise_for_status()
        return revision

    def restart_apiserver(self) -> None:
        done = script("restart-apiserver", str(self.directory), timeout=180)
        assert done.returncode == 0, done.stderr
        self._connections.clear()

    # -- objects ---------------------------------------------------------------------------

    def create(self, path: str, body: Obj, user: str = "admin") -> Obj:
        return self.connection_cached(user).request_json("POST", path, body=body)

    def get(self, path: str, user: str = "admin") -> Obj:
        return self.connection_cached(user).get_json(path)

    def patch(self, path: str, body: Any, user: str = "admin", kind: str = "merge") -> Obj:
        return self.connection_cached(user).request_json(
            "PATCH", path, body=body, content_type=f"application/{kind}-patch+json"
        )

    def ensure(self, path: str, body: Obj) -> Obj:
        try:
            return self.create(path, body)
        except ApiStatusError as err:
            if err.status != 409:
                raise
            name = body["metadata"]["name"]
            return self.get(f"{path}/{name}")

    def connection_cached(self, user: str) -> KubeConnection:
        if user not in self._connections:
            self._connections[user] = self.connection(user)
        return self._connections[user]

    def add_tenant(
        self,
        name: str,
        wave: int = 0,
        replicas: int = 1,
        release: DesiredVersion = RELEASE,
        *,
        desired: DesiredVersion | None = None,
        head: str = "0" * 40,
        deployed_revision: str = "0" * 40,
    ) -> TenantSpec:
        """The tenant's namespace, RoleBinding, ClusterExec, Secret, Service, Deployment (at
        `release`) and Application (deployed at `deployed_revision`, wanting `desired` at
        `head`, multi-source as the platform's ApplicationSet makes it); returns its spec.
        Idempotent."""
        tenant = TenantSpec(name=name, wave=wave, replicas=replicas)
        tenant.hostname = f"{name}.nextcloud.example.com"
        tenant.bucket = f"nextcloud-{name}"
        ns = tenant.namespace
        self.ensure("/api/v1/namespaces", _strip(namespace_manifest(ns, {"tenant": name})))
        self.ensure(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
            {
                "metadata": {"name": "engineer-admin", "namespace": ns},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "admin",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "engineer"}
                ],
            },
        )
        self.ensure(
            "/apis/kwok.x-k8s.io/v1alpha1/clusterexecs",
            {
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "ClusterExec",
                "metadata": {"name": f"nextcloud-{ns}"},
                "spec": {
                    "selector": {"matchNamespaces": [ns]},
                    "execs": [
                        {
                            "containers": ["nextcloud"],
                            "local": {
                                "envs": [
                                    {"name": "NC_TENANT", "value": name},
                                    {"name": "NC_STATE_DIR", "value": str(self.nextcloud_dir)},
                                    {"name": "NC_IMAGE_TAG", "value": release.image_tag},
                                ]
                            },
                        }
                    ],
                },
            },
        )
        credentials = S3Credentials(f"AK{name.upper()[:16]}", "s3-secret-" + name)
        self.ensure(f"/api/v1/namespaces/{ns}/secrets", tenant_secret(tenant, credentials))
        service = service_manifest(
            ns, "nextcloud", {"app.kubernetes.io/name": "nextcloud"}, 8080, 80
        )
        service["spec"].pop("clusterIP")  # the real apiserver allocates it from its range
        self.ensure(f"/api/v1/namespaces/{ns}/services", service)
        self.ensure(
            f"/apis/apps/v1/namespaces/{ns}/deployments", nextcloud_deployment(tenant, release)
        )
        app = application(
            tenant, "", head, deployed_revision, release, desired or release, "Healthy"
        )
        app["metadata"].pop("ownerReferences")  # no ApplicationSet object with that uid here
        app["metadata"].pop("finalizers")  # no Argo CD here to remove it on delete
        app |= {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application"}
        self.ensure("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications", app)
        return tenant

    def ready_pods(self, namespace: str) -> list[Obj]:
        pods = self.get(
            f"/api/v1/namespaces/{namespace}/pods?labelSelector=app.kubernetes.io/name%3Dnextcloud"
        )
        return [
            pod
            for pod in pods.get("items", [])
            if pod.get("status", {}).get("phase") == "Running"
            and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in pod.get("status", {}).get("conditions", [])
            )
        ]

    def wait_ready(self, tenant: TenantSpec, timeout: float = 90) -> list[Obj]:
        """The tenant's Ready pods, once kwok also answers exec in them (its ClusterExec
        informer may lag behind the pods)."""
        pods = wait_until(
            lambda: (
                (pods := self.ready_pods(tenant.namespace))
                and len(pods) >= tenant.replicas
                and pods
            ),
            timeout,
            f"{tenant.replicas} Ready pods in {tenant.namespace}",
        )
        if pods and isinstance(pods, list):
            name = pods[0]["metadata"]["name"]
            wait_until(
                lambda: (
                    "no exec found"
                    not in self.kubectl(
                        "exec", "-n", tenant.namespace, name, "--", "php", "--version", check=False
                    ).stderr
                ),
                timeout,
                f"kwok answering exec in {tenant.namespace}",
            )
        return pods


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _strip(obj: Obj) -> Obj:
    """A manifest as a client sends it: no status."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    return obj


def script(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)
