"""Churn driver: changes the fleet through the Kubernetes API at a steady rate, from its own
process (so its CPU is neither the console's nor the simulator's).

    python benchmarks/churn.py --kubeconfig DIR/kubeconfig --rate 50 --seconds 600 --out F

Each change bumps one container's `restartCount` in a tenant pod's status (a JSON patch on
the pods/status subresource, as a kubelet would report a restart): exactly one watch event
per change, and a change a user sees, because the fleet table's RST column is the sum of the
tenant's restarts. The whole fleet is visited in turn (a tenant's pods take turns); with
--focus-share S, that share of the changes goes to the --focus tenants (e.g. the rows in view,
a stress case: every change then needs a repaint) in turn instead. For every change one
JSON line goes to --out: {"t": monotonic time just before the request, "tenant": name,
"expect": the tenant's restart total once it is applied}. CLOCK_MONOTONIC is system-wide on
Linux, so the console process can compare these times with its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

from ncconsole.kube.connection import connect
from ncconsole.settings import Settings

SELECTOR = "app.kubernetes.io/name=nextcloud"
JSON_PATCH = "application/json-patch+json"


def tenant_pods(conn, prefix: str) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each tenant's pod names (sorted) and its current restart total."""
    data = conn.get_json("/api/v1/pods", {"labelSelector": SELECTOR})
    pods: dict[str, list[str]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for pod in data.get("items") or ():
        namespace = pod["metadata"]["namespace"]
        if not namespace.startswith(prefix):
            continue
        tenant = namespace[len(prefix) :]
        pods[tenant].append(pod["metadata"]["name"])
        for status in (pod.get("status") or {}).get("containerStatuses") or ():
            totals[tenant] += int(status.get("restartCount") or 0)
    for names in pods.values():
        names.sort()
    return dict(pods), dict(totals)


def restart_counts(conn, namespace: str, pod: str) -> list[int]:
    obj = conn.get_json(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    statuses = (obj.get("status") or {}).get("containerStatuses") or ()
    return [int(s.get("restartCount") or 0) for s in statuses]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=50.0, help="changes per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prefix", default="nc-", help="tenant namespace prefix")
    parser.add_argument("--focus", default="", help="comma-separated tenants (rows in view)")
    parser.add_argument(
        "--focus-share", type=float, default=0.0, help="share of the changes for --focus"
    )
    args = parser.parse_args(argv)

    conn = connect(Settings(kubeconfig=args.kubeconfig))
    pods, totals = tenant_pods(conn, args.prefix)
    tenants = sorted(pods)
    focus = [name for name in args.focus.split(",") if name in pods] or tenants
    if not tenants:
        print("churn: no tenant pods found", file=sys.stderr)
        return 2
    counts: dict[tuple[str, str], list[int]] = {}
    interval = 1.0 / args.rate
    began = time.monotonic()
    sent = failed = focused = 0
    with open(args.out, "w", encoding="utf-8") as out:
        print(json.dumps({"started": began, "rate": args.rate}), file=out, flush=True)
        while True:
            due = began + sent * interval
            now = time.monotonic()
            if due - began >= args.seconds:
                break
            if due > now:
                time.sleep(due - now)
            # A --focus-share of the changes go to the focus tenants in turn, the rest to
            # the whole fleet in turn.
            if int((sent + 1) * args.focus_share) > int(sent * args.focus_share):
                pool, turn = focus, focused
                focused += 1
            else:
                pool, turn = tenants, sent - focused
            tenant = pool[turn % len(pool)]
            names = pods[tenant]
            pod = names[(turn // len(pool)) % len(names)]
            namespace = args.prefix + tenant
            key = (namespace, pod)
            if key not in counts:
                counts[key] = restart_counts(conn, namespace, pod)
            if not counts[key]:
                sent += 1
                continue
            counts[key][0] += 1
            patch = [
                {"op": "replace", "path": "/status/containerStatuses/0/restartCount",
                 "value": counts[key][0]},
            ]  # fmt: skip
            t0 = time.monotonic()
            try:
                conn.request_json(
                    "PATCH", f"/api/v1/namespaces/{namespace}/pods/{pod}/status",
                    body=patch, content_type=JSON_PATCH,
                )  # fmt: skip
            except Exception as err:  # a failed change is reported, not expected on screen
                failed += 1
                counts[key][0] -= 1
                print(f"churn: {namespace}/{pod}: {err}", file=sys.stderr)
            else:
                totals[tenant] = totals.get(tenant, 0) + 1
                print(json.dumps({"t": t0, "tenant": tenant, "expect": totals[tenant]}), file=out)
            sent += 1
        lag = time.monotonic() - (began + args.seconds)
        print(json.dumps({"done": sent, "failed": failed, "lag": lag}), file=out, flush=True)
    conn.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
