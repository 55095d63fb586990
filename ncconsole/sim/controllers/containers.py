"""What runs inside a tenant's `nextcloud` container: `kubectl exec` reaches the tenant's
simulated occ (the same NextcloudInstance status.php reports on), and `pods/log` shows what
each run of the container wrote (sim/nextcloud/logs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ncconsole.sim.apiserver.exec_ws import ExecRequest, command_not_found
from ncconsole.sim.apiserver.pod_logs import ContainerRun, LogLine, default_log_source
from ncconsole.sim.controllers.state import PlatformState
from ncconsole.sim.nextcloud.logs import nextcloud_log
from ncconsole.sim.nextcloud.occ import run_occ

Obj = dict[str, Any]


class Containers:
    def __init__(self, state: PlatformState) -> None:
        self.state = state

    async def exec(self, req: ExecRequest) -> int:
        tenant = self.state.tenant_of_namespace(req.namespace)
        if tenant is None or req.container != "nextcloud":
            return await command_not_found(req)
        result = run_occ(self.state.instances[tenant], req.command)
        if result.stdout:
            await req.write_stdout(result.stdout)
        if result.stderr:
            await req.write_stderr(result.stderr)
        return result.exit_code

    def logs(
        self, namespace: str, pod: Obj, run: ContainerRun, until: datetime
    ) -> list[LogLine] | str:
        """A LogSource for the API server: Nextcloud's own lines in tenant namespaces."""
        tenant = self.state.tenant_of_namespace(namespace)
        if tenant is None:
            return default_log_source(namespace, pod, run, until)
        timings = self.state.timings
        return nextcloud_log(
            self.state.instances[tenant], pod, run, until,
            probe_period=timings.probe_period, probe_delay=timings.readiness,
        )  # fmt: skip
