"""A simulated cluster for the tenant actions: SimServer with tenants whose pods run the
simulated occ, and the console's settings pointing at it. XDG dirs go to tmp_path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.settings import Settings
from ncconsole.sim.apiserver.exec_ws import ExecRequest
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.nextcloud.fleet import first_stdin_line, reads_stdin
from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.occ import run_occ
from ncconsole.sim.scenario import TenantFaults, TenantSpec
from tests.cluster_objects import add_tenant, ensure_namespace


class OccCluster:
    """SimServer + one NextcloudInstance per tenant namespace answering exec with occ."""

    def __init__(self, server: SimServer, tmp: Path) -> None:
        self.server = server
        self.instances: dict[str, NextcloudInstance] = {}
        self.delays: dict[str, float] = {}  # namespace -> seconds before occ answers
        self.kubeconfig = server.write_kubeconfig(tmp / "kubeconfig")
        viewer = "viewer-token"
        server.call(server.auth.add_user, "viewer", viewer, read_only=True)
        self.viewer_kubeconfig = server.write_kubeconfig(
            tmp / "viewer-kubeconfig", user="viewer", token=viewer
        )
        server.api.exec_handler = self._exec
        ensure_namespace(server, "argocd")

    async def _exec(self, req: ExecRequest) -> int:
        instance = self.instances.get(req.namespace)
        if instance is None:
            await req.write_stderr("no such instance\n")
            return 127
        if self.delays.get(req.namespace):
            await asyncio.sleep(self.delays[req.namespace])
        stdin = await first_stdin_line(req) if reads_stdin(req.command) else b""
        result = run_occ(instance, req.command, stdin=stdin)
        await req.write_stdout(result.stdout)
        await req.write_stderr(result.stderr)
        return result.exit_code

    def add(self, tenant: str, wave: int = 1, **faults: bool) -> NextcloudInstance:
        spec = TenantSpec(name=tenant, wave=wave, faults=TenantFaults(**faults))
        spec.hostname = f"{tenant}.nextcloud.example.com"
        spec.bucket = f"nextcloud-{tenant}"
        add_tenant(self.server, tenant, wave)
        instance = NextcloudInstance.for_tenant(spec, "30.0.6-apache")
        self.instances[f"nc-{tenant}"] = instance
        return instance

    def settings(self, **overrides: object) -> Settings:
        return Settings(kubeconfig=self.kubeconfig, **overrides)

    def connect(self, **overrides: object) -> KubeConnection:
        return connect(self.settings(**overrides))


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NCCONSOLE_CONFIG", raising=False)
    for var in (
        "NCCONSOLE_S3_ACCESS_KEY",
        "NCCONSOLE_S3_SECRET_KEY",
        "NCCONSOLE_READ_ONLY",
        "NCCONSOLE_DB_PASSWORD",
        "NCCONSOLE_REDIS_PASSWORD",
        "NCCONSOLE_PROFILE",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[OccCluster]:
    with SimServer(tls_dir=tmp_path / "tls") as server:
        yield OccCluster(server, tmp_path)
