"""What runs inside a tenant's `nextcloud` container: `kubectl exec` reaches the tenant's
simulated occ (the same NextcloudInstance status.php reports on), and `pods/log` shows what
the Nextcloud image's Apache writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.sim.apiserver.exec_ws import ExecRequest, command_not_found
from ncconsole.sim.controllers.state import PlatformState
from ncconsole.sim.nextcloud.occ import run_occ

Obj = dict[str, Any]
_PROBE = '"GET /status.php HTTP/1.1" 200 {size} "-" "kube-probe/1.31"'


def _parse(stamp: str | None) -> datetime:
    try:
        return datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)


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

    def logs(self, namespace: str, pod: Obj, container: str) -> str:
        status = pod.get("status") or {}
        started = _parse(status.get("startTime") or pod["metadata"].get("creationTimestamp"))
        tenant = self.state.tenant_of_namespace(namespace)
        ip = status.get("podIP", "10.42.0.1")
        if tenant is None or container != "nextcloud":
            return f"{started:%Y-%m-%dT%H:%M:%SZ} {container} started\n"
        instance = self.state.instances[tenant]
        lines = [
            f"Initializing nextcloud {instance.version} ...",
            "=> Searching for hook scripts (*.sh) to run, located in the folder "
            '"/docker-entrypoint-hooks.d/before-starting"',
            "AH00558: apache2: Could not reliably determine the server's fully qualified domain "
            f"name, using {ip}. Set the 'ServerName' directive globally to suppress this message",
            f"[{started:%a %b %d %H:%M:%S}.{started.microsecond:06d} {started:%Y}] "
            "[mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.62 (Debian) PHP/8.3.14 "
            "configured -- resuming normal operations",
            f"[{started:%a %b %d %H:%M:%S}.000412 {started:%Y}] [core:notice] [pid 1] "
            "AH00094: Command line: 'apache2 -D FOREGROUND'",
        ]
        crashing = any(
            "waiting" in (cs.get("state") or {}) or cs.get("lastState")
            for cs in status.get("containerStatuses") or []
        )
        if crashing and tenant in self.state.degraded:
            lines.append(
                "PHP Fatal error:  Uncaught Doctrine\\DBAL\\Exception: Failed to connect to the "
                "database: An exception occurred in the driver: SQLSTATE[08006] [7] connection "
                'to server at "pgbouncer.nc-platform.svc" (10.43.0.12), port 5432 failed: '
                "FATAL:  no more connections allowed (max_client_conn) in "
                "/var/www/html/lib/private/DB/Connection.php:237"
            )
            return "\n".join(lines) + "\n"
        now = datetime.now(UTC)
        probe_time = max(started, now - timedelta(seconds=2000)) + timedelta(seconds=10)
        count = 0
        while probe_time < now and count < 200:
            size = 1243 + count % 3
            lines.append(
                f"10.42.0.1 - - [{probe_time:%d/%b/%Y:%H:%M:%S} +0000] " + _PROBE.format(size=size)
            )
            probe_time += timedelta(seconds=10)
            count += 1
        return "\n".join(lines) + "\n"
