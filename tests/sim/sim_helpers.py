"""Helpers for tests that run a whole `Simulator`: kubectl against it, polling with a deadline."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.stream import stream
from kubernetes.stream.ws_client import WSClient

from ncconsole.kube.watch import WatchTiming
from ncconsole.sim.scenario import Scenario
from ncconsole.sim.simulator import Simulator

KUBECTL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl"
# Watch timings for tests: reconnects and retries in tenths of a second, not seconds.
FAST = WatchTiming(watch_seconds=30, backoff_base=0.05, backoff_max=0.3, forbidden_retry=0.3)

T = TypeVar("T")


def scenario(tenants: list[dict[str, Any]], **extra: Any) -> Scenario:
    """A small scenario with fast timings (the defaults) and the given tenants."""
    return Scenario.model_validate({"tenants": tenants, **extra})


def kubectl(sim: Simulator, *args: str, check: bool = True, kubeconfig: Path | None = None):
    home = sim.workdir / "kubectl-home"
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig or sim.kubeconfig),
        "HOME": str(home),
        "KUBECACHEDIR": str(home / "cache"),
    }
    proc = subprocess.run(
        [str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=30
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def api_client(sim: Simulator, kubeconfig: Path | None = None) -> client.ApiClient:
    return config.new_client_from_config(str(kubeconfig or sim.kubeconfig))


def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def pod_exec(
    v1: client.CoreV1Api,
    namespace: str,
    pod: str,
    command: list[str],
    container: str = "nextcloud",
) -> WSClient:
    """Run `command` in a pod over the exec WebSocket and wait for it to finish (10 s at most)."""
    resp = stream(
        v1.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=command,
        container=container,
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=10)
    return resp
