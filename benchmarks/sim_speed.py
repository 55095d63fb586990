"""How fast the simulator's building blocks are at platform scale (2,000 tenants): the
figures a few simulator tests used to assert as wall-clock limits, measured here instead.

- `scenario`: generating a 2,000-tenant scenario (target < 0.5 s);
- `repo_write` / `repo_read`: writing its GitOps repository and reading every tenant's
  desired versions back (targets < 10 s / < 5 s);
- `s3_provision`: a bucket and keys per tenant in the in-process S3 (target < 3 s);
- `list_pods`: GET /api/v1/pods of 6,000 pods over HTTPS (target < 1.5 s).

    uv run python benchmarks/sim_speed.py [--tenants 2000]

The last line is JSON with every figure (seconds) and the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from measure import load_average

from ncconsole.sim.apiserver.resources import NAMESPACES, PODS
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from ncconsole.sim.platform_repo.repo import desired_versions, write_platform_repo
from ncconsole.sim.s3 import S3Service
from ncconsole.sim.scenario import default_scenario

TARGETS = {"scenario": 0.5, "repo_write": 10.0, "repo_read": 5.0, "s3_provision": 3.0,
           "list_pods": 1.5}  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def seed_pods(store: Store, tenants: int) -> None:
    for i in range(tenants):
        ns = f"nc-tenant-{i:04d}"
        store.create(NAMESPACES, {"metadata": {"name": ns}})
        for j in range(3):
            store.create(PODS, {
                "metadata": {"name": f"nextcloud-7d9f8c6b5-{j}{i:04d}", "namespace": ns,
                             "labels": {"app.kubernetes.io/name": "nextcloud"}},
                "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30.0.1"}]},
                "status": {"phase": "Running"},
            })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=2000)
    args = parser.parse_args(argv)
    n = args.tenants
    figures: dict[str, Any] = {"tenants": n}
    figures["scenario"], scenario = timed(lambda: default_scenario(tenants=n, waves=4))
    with tempfile.TemporaryDirectory(prefix="sim-speed-") as tmp:
        repo = Path(tmp) / "repo"
        figures["repo_write"], head = timed(lambda: write_platform_repo(scenario, repo))
        figures["repo_read"], _ = timed(lambda: desired_versions(repo, head))
        with S3Service() as s3:
            figures["s3_provision"], _ = timed(lambda: s3.provision(scenario.tenants))
        with SimServer(tls_dir=Path(tmp) / "tls") as server:
            server.call(seed_pods, server.store, n)
            headers = {"Authorization": f"Bearer {server.admin_token}"}
            with httpx.Client(verify=server.tls.client_context(), timeout=60) as http:
                url = f"{server.url}/api/v1/pods"
                figures["list_pods"], answer = timed(lambda: http.get(url, headers=headers))
                assert len(answer.json()["items"]) == 3 * n, answer.text[:200]
    figures["load"] = load_average()
    print(f"simulator speed at {n} tenants (load {figures['load']})")
    for key, target in TARGETS.items():
        print(f"  {key:<13} {figures[key]:7.2f} s   target < {target:g} s")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
