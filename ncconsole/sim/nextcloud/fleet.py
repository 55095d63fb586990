"""Every simulated tenant's Nextcloud, found by tenant, Host header or namespace; the exec
handler that runs `kubectl exec` commands in their containers through the simulated occ, and
the log provider behind `kubectl logs`."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from ncconsole.sim.apiserver.exec_ws import ExecRequest, command_not_found
from ncconsole.sim.apiserver.pod_logs import ContainerRun, LogLine, default_log_source
from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.logs import nextcloud_log
from ncconsole.sim.nextcloud.occ import run_occ
from ncconsole.sim.scenario import NAMESPACE_PREFIX, Scenario

# Containers built from the Nextcloud image (php and occ inside); the chart's nginx and
# metrics-exporter sidecars have neither.
NEXTCLOUD_CONTAINERS = ("nextcloud", "nextcloud-cron")


class NextcloudFleet:
    def __init__(
        self, instances: dict[str, NextcloudInstance], namespace_prefix: str = NAMESPACE_PREFIX
    ) -> None:
        self._by_tenant = dict(instances)
        self._by_host = {nc.hostname.lower(): nc for nc in instances.values()}
        self._prefix = namespace_prefix

    @classmethod
    def from_scenario(cls, scenario: Scenario, s3_endpoint: str = "") -> NextcloudFleet:
        """Freshly installed instances at the scenario's release (tenant overrides apply)."""
        return cls(
            {
                t.name: NextcloudInstance.for_tenant(t, scenario.release.image_tag, s3_endpoint)
                for t in scenario.tenants
            }
        )

    def __len__(self) -> int:
        return len(self._by_tenant)

    def tenant(self, name: str) -> NextcloudInstance | None:
        return self._by_tenant.get(name)

    def by_host(self, host: str) -> NextcloudInstance | None:
        """The lookup NextcloudWeb routes status.php requests with."""
        return self._by_host.get(host.lower())

    def for_namespace(self, namespace: str) -> NextcloudInstance | None:
        if not namespace.startswith(self._prefix):
            return None
        return self._by_tenant.get(namespace[len(self._prefix) :])

    def log_source(
        self, namespace: str, pod: dict[str, Any], run: ContainerRun, until: datetime
    ) -> list[LogLine] | str:
        """A LogSource for the API server: Nextcloud's logs in tenant namespaces."""
        instance = self.for_namespace(namespace)
        if instance is None:
            return default_log_source(namespace, pod, run, until)
        return nextcloud_log(instance, pod, run, until)

    async def exec_handler(self, req: ExecRequest) -> int:
        """An ExecHandler for the API server: occ in a tenant's Nextcloud containers."""
        instance = self.for_namespace(req.namespace)
        if instance is None or req.container not in NEXTCLOUD_CONTAINERS:
            return await command_not_found(req)
        stdin = await first_stdin_line(req) if reads_stdin(req.command) else b""
        uid = run_as_user(req.pod, req.container)
        result = run_occ(instance, req.command, uid=uid, stdin=stdin)
        if result.stdout:
            await req.write_stdout(result.stdout)
        if result.stderr:
            await req.write_stderr(result.stderr)
        return result.exit_code


def reads_stdin(command: list[str]) -> bool:
    """Whether the command's shell reads stdin (`read -r NAME`)."""
    return any(re.search(r"(^|[;&|]\s*)read\b", word) for word in command)


async def first_stdin_line(req: ExecRequest, timeout: float = 10.0) -> bytes:
    """Stdin up to its first newline: what `read` consumes. A v4 client cannot close stdin,
    so waiting for its end would wait forever."""
    data = b""
    while b"\n" not in data:
        try:
            chunk = await asyncio.wait_for(req.read_stdin(), timeout)
        except TimeoutError:
            break
        if chunk is None:
            break
        data += chunk
    return data


def run_as_user(pod: dict[str, Any], container: str) -> int:
    """The uid a container runs as: its securityContext.runAsUser, else the pod's, else root."""
    spec = pod.get("spec") or {}
    for c in spec.get("containers") or []:
        if c.get("name") == container:
            uid = (c.get("securityContext") or {}).get("runAsUser")
            if isinstance(uid, int):
                return uid
    uid = (spec.get("securityContext") or {}).get("runAsUser")
    return uid if isinstance(uid, int) else 0
