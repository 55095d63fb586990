"""What Prometheus would tell the real Alertmanager behind the simulator: the simulated cluster's
state judged by a few of kube-prometheus' and a Nextcloud platform's rules, posted through
Alertmanager's API v2 every EVERY seconds with an end a few minutes ahead (as Prometheus resends
firing alerts), and resolved once the state is gone.

- KubePodCrashLooping (warning) for a tenant pod waiting in CrashLoopBackOff;
- NextcloudMaintenanceMode (warning) for a tenant whose Nextcloud is in maintenance mode;
- PgBouncerClientsWaiting (critical, in the platform namespace: platform-wide) while a tenant
  with the pgbouncer_saturated fault queues clients in the real PgBouncer.

Labels are kube-prometheus' (`namespace`, `pod`, `severity`), so the console maps them to
tenants by its default `namespace` label.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ncconsole.sim.apiserver.resources import PODS
from ncconsole.sim.controllers.state import PLATFORM_NAMESPACE
from ncconsole.sim.scenario import NAMESPACE_PREFIX

log = logging.getLogger(__name__)
EVERY = 15.0  # seconds between evaluations (Prometheus' evaluation_interval is 15-30 s)
VALID_FOR = timedelta(minutes=4)  # endsAt ahead of now, as Prometheus sends it

Labels = dict[str, str]
# (labels, summary) of every alert firing now.
Rules = Callable[[], list[tuple[Labels, str]]]


class PrometheusAlerts:
    """`start()`, `evaluate_now()`, `stop()` (which resolves what it posted)."""

    def __init__(self, alertmanager_url: str, rules: Rules) -> None:
        self.url = alertmanager_url.rstrip("/")
        self._rules = rules
        self._firing: dict[tuple[tuple[str, str], ...], Labels] = {}
        # When each alert began (Prometheus' activeAt): Alertmanager takes a missing startsAt
        # to be the endsAt, which would put the start in the future.
        self._since: dict[tuple[tuple[str, str], ...], datetime] = {}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim prometheus", daemon=True)

    def start(self) -> PrometheusAlerts:
        self._thread.start()
        return self

    def evaluate_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(10)
        with contextlib.suppress(httpx.HTTPError):
            self._post([(labels, "") for labels in self._firing.values()], resolved=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._evaluate()
            except Exception:  # the cluster loop may be stopping, or Alertmanager restarting
                log.exception("alert rules")
            self._wake.wait(EVERY)
            self._wake.clear()

    def _evaluate(self) -> None:
        firing = self._rules()
        now_keys = {_key(labels): labels for labels, _ in firing}
        gone = [labels for key, labels in self._firing.items() if key not in now_keys]
        if gone:
            self._post([(labels, "") for labels in gone], resolved=True)
        now = datetime.now(UTC)
        self._since = {key: self._since.get(key, now) for key in now_keys}
        if firing:
            self._post(firing, resolved=False)
        self._firing = now_keys

    def _post(self, alerts: list[tuple[Labels, str]], *, resolved: bool) -> None:
        now = datetime.now(UTC)
        ends = now - timedelta(seconds=1) if resolved else now + VALID_FOR
        body = [
            {
                "labels": labels,
                "annotations": {"summary": summary} if summary else {},
                "startsAt": self._since.get(_key(labels), now - timedelta(seconds=2)).isoformat(),
                "endsAt": ends.isoformat(),
                "generatorURL": "http://prometheus.monitoring.svc:9090/graph",
            }
            for labels, summary in alerts
        ]
        httpx.post(f"{self.url}/api/v2/alerts", json=body, timeout=5).raise_for_status()


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def firing_now(store: Any, state: Any, pgbouncer_queued: int) -> list[tuple[Labels, str]]:
    """The rules over the simulated cluster (run in its loop thread): see the module docstring."""
    out: list[tuple[Labels, str]] = []
    for pod in store.list(PODS):
        meta = pod.get("metadata") or {}
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        if state.tenant_of_namespace(namespace) is None:
            continue
        for status in (pod.get("status") or {}).get("containerStatuses") or ():
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "CrashLoopBackOff":
                container = status.get("name", "")
                labels = {"alertname": "KubePodCrashLooping", "severity": "warning",
                          "namespace": namespace, "pod": name, "container": container}  # fmt: skip
                out.append((labels, f'Pod {namespace}/{name} ({container}) is in waiting state '
                                    '(reason: "CrashLoopBackOff").'))  # fmt: skip
    for tenant, instance in sorted(state.instances.items()):
        if instance.maintenance:
            labels = {"alertname": "NextcloudMaintenanceMode", "severity": "warning",
                      "namespace": f"{NAMESPACE_PREFIX}{tenant}"}  # fmt: skip
            out.append((labels, f"Nextcloud {tenant} is in maintenance mode"))
    if pgbouncer_queued:
        labels = {"alertname": "PgBouncerClientsWaiting", "severity": "critical",
                  "namespace": PLATFORM_NAMESPACE, "service": "pgbouncer"}  # fmt: skip
        out.append((labels, f"{pgbouncer_queued} PgBouncer clients are waiting for a server "
                            "connection; new ones are refused at max_client_conn"))  # fmt: skip
    return out
