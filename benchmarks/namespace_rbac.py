"""What the per-namespace fallback costs: the fleet read as a cluster-wide admin and as an
engineer bound only by RoleBindings in the tenant namespaces (who gets 403 on every list
across namespaces and is read with one list+watch per tenant namespace and kind).

    uv run python benchmarks/namespace_rbac.py --tenants 2000 [--idle-seconds 60]

The simulator runs as its own process. Each user is measured in a fresh process of its own:
time until the fleet state is complete, RSS and threads then, the API requests made (lists and
watch streams), and the requests per minute while idle afterwards. One JSON line per user.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from measure import load_average, rss_mb
from simproc import SimProcess

HERE = Path(__file__).resolve().parent
ADMIN_TOKEN = "bench-admin-token"
ENGINEER_TOKEN = "bench-engineer-token"


def write_scenario(path: Path, tenants: int) -> Path:
    lines = [
        "# benchmarks/namespace_rbac.py: an admin and a namespace-only engineer",
        "rbac:",
        "  users:",
        f"    - {{name: admin, token: {ADMIN_TOKEN}}}",
        f'    - {{name: engineer, token: {ENGINEER_TOKEN}, namespaces: ["nc-*", argocd]}}',
        "tenants:",
        *(
            f"  - {{name: tenant-{i:04d}, wave: {0 if i == 0 else 1 + i % 3}, replicas: 3}}"
            for i in range(tenants)
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kubeconfig_for(admin: Path, user: str, token: str, out: Path) -> Path:
    doc = yaml.safe_load(admin.read_text())
    doc["users"] = [{"name": user, "user": {"token": token}}]
    doc["contexts"][0]["context"]["user"] = user
    out.write_text(yaml.safe_dump(doc))
    return out


def measure(config: Path, kubeconfig: Path, idle: float) -> dict:
    """One user's figures, in this (fresh) process."""
    from ncconsole.fleet.state import FleetState
    from ncconsole.settings import load_settings

    os.environ["NCCONSOLE_CONFIG"] = str(config)
    settings = load_settings(kubeconfig=kubeconfig)
    rss_before = rss_mb()
    state = FleetState(settings, probes=False)
    began = time.monotonic()
    state.start()
    snapshot = state.wait_for(lambda s: s.complete, 600)
    complete = time.monotonic() - began

    def requests() -> int:
        return sum(sum(w.request_counts()) for w in state._watchers)

    at_complete = requests()
    result = {
        "complete_s": round(complete, 2),
        "tenants": len(snapshot.tenants),
        "pods_seen": sum(len(t.pods) for t in snapshot.tenants),
        "kinds": {k: v.status.value for k, v in sorted(snapshot.kinds.items())},
        "rss_mb": round(rss_mb(), 1),
        "rss_growth_mb": round(rss_mb() - rss_before, 1),
        "threads": threading.active_count(),
        "requests_to_complete": at_complete,
    }
    time.sleep(idle)
    result["idle_requests_per_min"] = round((requests() - at_complete) * 60 / idle, 1)
    result["rss_after_idle_mb"] = round(rss_mb(), 1)
    result["load"] = load_average()
    state.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--measure", nargs=2, metavar=("CONFIG", "KUBECONFIG"))
    args = parser.parse_args()
    if args.measure:
        config, kubeconfig = map(Path, args.measure)
        print(json.dumps(measure(config, kubeconfig, args.idle_seconds)))
        return
    with tempfile.TemporaryDirectory(prefix="ncconsole-rbac-bench-") as tmp:
        root = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(root / "state")
        scenario = write_scenario(root / "scenario.yaml", args.tenants)
        with SimProcess(args.tenants, root / "sim", scenario) as sim:
            users = {
                "admin": sim.kubeconfig,
                "engineer": kubeconfig_for(
                    sim.kubeconfig, "engineer", ENGINEER_TOKEN, root / "engineer.kubeconfig"
                ),
            }
            for user, kubeconfig in users.items():
                done = subprocess.run(
                    [sys.executable, str(Path(__file__)), "--measure", str(sim.config_path),
                     str(kubeconfig), "--idle-seconds", str(args.idle_seconds)],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    raise SystemExit(f"{user}: {done.stderr.strip()[-500:]}")
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                print(json.dumps({"user": user, "tenants_in_sim": args.tenants, **figures}))


if __name__ == "__main__":
    main()
