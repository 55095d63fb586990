"""(7) Wave promotion: the console's engine on wave 1 against a bare client on wave 2.

Both waves have the same size (scenario_file.py) and both go to the pending upgrade with
concurrency 10. The engine (`ncconsole wave promote`'s WavePromotion, gates forced since the
canary is not promoted first) does everything the console does per tenant: Lease, sync
request, watch to Synced+Healthy, smoke checks, audit. The baseline does only what the
simulator needs: the same sync PATCH per Application and one shared watch that notices
each one done (`sync_state` == DONE) - its wall time is the simulator's own sync time for
the wave at that concurrency. Overhead = engine total - baseline total.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from scenario_file import promotion_wave_size

from ncconsole.fleet.health import sync_busy
from ncconsole.kube.argocd import FINAL, SyncRequest, app_path, request_sync, sync_state
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.settings import Settings

CONCURRENCY = 10


def wave_apps(settings: Settings, wave_index: int, size: int) -> list[str]:
    first = 1 + (wave_index - 1) * size
    return [settings.app_name_for(f"tenant-{i:04d}") for i in range(first, first + size)]


def baseline_promote(
    conn: KubeConnection, namespace: str, apps: list[str], concurrency: int, timeout: float
) -> tuple[float, int]:
    """Sync `apps` (at most `concurrency` at once) and wait for each to be done; returns
    (wall seconds, apps done)."""
    pending: dict[str, SyncRequest] = {}
    done: set[str] = set()
    lock = threading.Lock()
    slots = threading.Semaphore(concurrency)
    finished = threading.Event()
    listing = conn.get_json(app_path(namespace))
    version = listing["metadata"]["resourceVersion"]
    stream = conn.open_stream(
        app_path(namespace),
        {"watch": "true", "resourceVersion": version, "timeoutSeconds": int(timeout) + 5},
        read_timeout=timeout + 10,
    )

    def follow() -> None:
        try:
            for line in stream:
                if not line.strip():
                    continue
                event = json.loads(line)
                obj = event.get("object") or {}
                name = (obj.get("metadata") or {}).get("name", "")
                with lock:
                    request = pending.get(name)
                if request is None or name in done:
                    continue
                if sync_state(obj, request).state in FINAL:
                    with lock:
                        done.add(name)
                    slots.release()
                    if len(done) == len(apps):
                        finished.set()
                        return
        except Exception:  # the stream ended: the wait below times out and says how many
            return

    watcher = threading.Thread(target=follow, name="baseline-watch", daemon=True)
    watcher.start()
    began = time.monotonic()
    for name in apps:
        slots.acquire()
        request = request_sync(
            conn, namespace, name, user="benchmark", reason="baseline", busy=sync_busy
        )
        with lock:
            pending[name] = request
    finished.wait(max(0.0, timeout - (time.monotonic() - began)))
    wall = time.monotonic() - began
    stream.release_conn()
    return wall, len(done)


def promotion_figures(settings: Settings, sim: Any, tenants: int, args: Any) -> dict[str, Any]:
    size = promotion_wave_size(tenants)
    if size < 1:
        return {"promotion_note": "fleet too small for a promotion wave"}
    try:
        from ncconsole.ops.promotion.model import PromotionOptions
        from ncconsole.ops.promotion.session import WaveSession
    except ImportError as err:
        return {"promotion_note": f"not yet: wave promotion engine not available ({err})"}
    timeout = 600.0
    note = f"wave of {size} tenants, concurrency {CONCURRENCY}"
    with WaveSession(settings).open(timeout=120) as session:
        options = PromotionOptions(wave=1, concurrency=CONCURRENCY, force=True, timeout=timeout)
        promotion = session.promotion(options)
        began = time.monotonic()
        report = promotion.run()
        total = time.monotonic() - began
    if report.outcome != "promoted":
        return {"promotion_total_s": total, "promotion_note": f"{note}: {report.message}"}
    conn = connect(settings)
    try:
        apps = wave_apps(settings, 2, size)
        baseline, finished = baseline_promote(
            conn, settings.argocd_namespace, apps, CONCURRENCY, timeout
        )
    finally:
        conn.close()
    if finished < len(apps):
        note += f"; baseline: only {finished}/{len(apps)} done in {timeout:g} s"
    smoke = [p.elapsed for p in report.tenants if p.phase.value == "done" and p.started is not None]
    if smoke:
        note += f"; engine per tenant {sum(smoke) / len(smoke):.2f} s incl. smoke checks"
    return {
        "promotion_total_s": total,
        "promotion_sim_s": baseline,
        "promotion_overhead_s": total - baseline,
        "promotion_note": note,
    }
