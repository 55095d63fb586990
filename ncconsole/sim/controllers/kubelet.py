"""What the kubelet (and scheduler) do to a pod: schedule it, pull and start its containers,
report readiness - or crash-loop with rising restarts while its tenant is degraded.

Each step is a timer on the event loop (durations from the scenario's timings) that checks the
pod still exists (same uid) before touching it. Steady-state pods made at startup get no
timers at all, except crash-looping ones, so thousands of tenants cost nothing while idle.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.sim.apiserver.resources import PODS, SECRETS
from ncconsole.sim.apiserver.store import Store, WatchEvent, now_iso
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import PlatformState

Obj = dict[str, Any]
NODES = ("worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-6")


def node_for(pod_name: str) -> str:
    return NODES[int(hashlib.sha1(pod_name.encode()).hexdigest(), 16) % len(NODES)]


def _ip(pod_name: str, base: str) -> str:
    digest = hashlib.sha1(pod_name.encode()).digest()
    return f"{base}.{digest[0]}.{digest[1] % 254 + 1}"


def _conditions(stamp: str, *, scheduled: bool, ready: bool, started: bool) -> list[Obj]:
    def cond(kind: str, ok: bool) -> Obj:
        return {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": stamp}

    return [
        cond("PodReadyToStartContainers", started),
        cond("Initialized", scheduled),
        cond("Ready", ready),
        cond("ContainersReady", ready),
        cond("PodScheduled", scheduled),
    ]


def container_id(pod_name: str, container: str, restarts: int) -> str:
    """The runtime's id of run number `restarts` of a container (a new one per restart)."""
    return (
        "containerd://" + hashlib.sha256(f"{pod_name}/{container}/{restarts}".encode()).hexdigest()
    )


def _earlier(stamp: str, seconds: float) -> str:
    at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return (at - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def running_status(
    pod: Obj, stamp: str, *, ready: bool, restarts: int = 0, before: Obj | None = None
) -> Obj:
    """The status of a scheduled pod whose containers run (ready or not yet). A container
    that ran before (`before`, the previous status) keeps its lastState, as the kubelet's
    does, so `kubectl logs --previous` still finds the run that ended."""
    name = pod["metadata"]["name"]
    containers = pod["spec"]["containers"]
    last = {
        cs.get("name"): cs["lastState"]
        for cs in (before or {}).get("containerStatuses") or []
        if cs.get("lastState")
    }
    return {
        "phase": "Running",
        "conditions": _conditions(stamp, scheduled=True, ready=ready, started=True),
        "hostIP": _ip(node_for(name), "10.0"),
        "podIP": _ip(name, "10.42"),
        "startTime": stamp,
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": f"docker.io/library/{c['image']}@sha256:"
                + hashlib.sha256(c["image"].encode()).hexdigest(),
                "containerID": container_id(name, c["name"], restarts),
                "ready": ready,
                "started": True,
                "restartCount": restarts,
                "state": {"running": {"startedAt": stamp}},
                **({"lastState": last[c["name"]]} if c["name"] in last else {}),
            }
            for c in containers
        ],
    }


def crashed_status(status: Obj, pod_name: str, backoff: float, stamp: str) -> Obj:
    """`status` after the main container exited with an error and waits to be restarted."""
    status = dict(status, conditions=_conditions(stamp, scheduled=True, ready=False, started=True))
    statuses = []
    for cs in status.get("containerStatuses") or []:
        restarts = int(cs.get("restartCount") or 0) + 1
        # A container waiting in back-off was started again briefly before this crash.
        started = (cs.get("state") or {}).get("running", {}).get("startedAt")
        if not started or started >= stamp:
            started = _earlier(stamp, 2)
        crashed_id = cs.get("containerID") or container_id(pod_name, cs["name"], restarts - 1)
        statuses.append(
            dict(
                cs,
                ready=False,
                started=False,
                restartCount=restarts,
                containerID=container_id(pod_name, cs["name"], restarts),
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {int(backoff)}s restarting failed "
                        f"container={cs['name']} pod={pod_name}",
                    }
                },
                lastState={
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": started,
                        "finishedAt": stamp,
                        "containerID": crashed_id,
                    }
                },
            )
        )
    status["containerStatuses"] = statuses
    return status


class Kubelet:
    """Drives pods through their lifecycle. `on_started(namespace, image)` is called when a
    container starts (the tenant's Nextcloud then runs that image)."""

    def __init__(
        self,
        store: Store,
        state: PlatformState,
        events: EventRecorder,
        on_started: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store, self.state, self.events = store, state, events
        self.on_started = on_started or (lambda ns, image: None)
        self._timers: dict[str, asyncio.TimerHandle] = {}  # pod uid -> next step
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = self.store.subscribe(PODS, self._on_pod)
        for tenant in self.state.degraded | self.state.stale_crashloop:
            for pod in self.store.list(PODS, f"nc-{tenant}"):
                if self._crashing(pod) and self._degraded(pod):
                    self._after(pod, self.state.timings.crashloop_backoff, self._crash)

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _degraded(self, pod: Obj) -> bool:
        """Whether the pod's main container dies on start: its tenant is degraded, or the pod
        is one of a stale crash loop's (new pods of that tenant start normally)."""
        tenant = self.state.tenant_of_namespace(pod["metadata"].get("namespace", ""))
        if tenant is None:
            return False
        return tenant in self.state.degraded or pod["metadata"].get("uid") in self.state.stale_pods

    def _crashing(self, pod: Obj) -> bool:
        return any(
            "waiting" in (cs.get("state") or {})
            for cs in (pod.get("status") or {}).get("containerStatuses") or []
        )

    def _on_pod(self, ev: WatchEvent) -> None:
        uid = ev.obj["metadata"].get("uid", "")
        if ev.type == "DELETED":
            timer = self._timers.pop(uid, None)
            if timer:
                timer.cancel()
        elif ev.type == "ADDED" and (ev.obj.get("status") or {}).get("phase") == "Pending":
            self._after(ev.obj, self.state.timings.pod_schedule, self._schedule)

    def _after(self, pod: Obj, delay: float, step: Callable[[Obj], None]) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"], meta["uid"])

        def fire() -> None:
            self._timers.pop(key[2], None)
            current = self.store.try_get(PODS, key[0], key[1])
            if current is not None and current["metadata"]["uid"] == key[2]:
                step(current)

        old = self._timers.pop(meta["uid"], None)
        if old:
            old.cancel()
        self._timers[meta["uid"]] = asyncio.get_running_loop().call_later(delay, fire)

    def set_status(self, pod: Obj, status: Obj, **spec: Any) -> Obj:
        def mutate(obj: Obj) -> None:
            obj["status"] = status
            obj["spec"].update(spec)

        meta = pod["metadata"]
        return self.store.update(PODS, meta["namespace"], meta["name"], mutate)

    # --- lifecycle steps ------------------------------------------------------------------
    def _schedule(self, pod: Obj) -> None:
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        node = node_for(name)
        stamp = now_iso()
        status = dict(
            pod.get("status") or {},
            phase="Pending",
            conditions=_conditions(stamp, scheduled=True, ready=False, started=False),
            hostIP=_ip(node, "10.0"),
            startTime=stamp,
            containerStatuses=[
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                }
                for c in pod["spec"]["containers"]
            ],
        )
        pod = self.set_status(pod, status, nodeName=node)
        self.events.record(
            pod,
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {node}",
            component="default-scheduler",
        )
        self._after(pod, self.state.timings.pod_start, self._start_containers)

    def _missing_secret(self, pod: Obj) -> str | None:
        namespace = pod["metadata"]["namespace"]
        for c in pod["spec"]["containers"]:
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
                name = ref.get("name")
                if name and not ref.get("optional") and not self._secret_exists(namespace, name):
                    return name
        return None

    def _secret_exists(self, namespace: str, name: str) -> bool:
        return self.store.try_get(SECRETS, namespace, name) is not None

    def _config_error(self, pod: Obj, secret: str) -> None:
        """The kubelet cannot build the container's environment: CreateContainerConfigError,
        retried with a back-off until the Secret exists."""
        message = f'secret "{secret}" not found'
        status = dict(pod.get("status") or {}, phase="Pending")
        status["containerStatuses"] = [
            dict(cs, ready=False, started=False,
                 state={"waiting": {"reason": "CreateContainerConfigError", "message": message}})
            for cs in status.get("containerStatuses") or []
        ]  # fmt: skip
        pod = self.set_status(pod, status)
        name = pod["spec"]["containers"][0]["name"]
        self.events.record(
            pod, "Failed", f"Error: {message}", type_="Warning",
            host=pod["spec"].get("nodeName", ""), field_path=f"spec.containers{{{name}}}",
        )  # fmt: skip
        self._after(pod, self.state.timings.crashloop_backoff, self._start_containers)

    def _start_containers(self, pod: Obj) -> None:
        missing = self._missing_secret(pod)
        if missing is not None:
            self._config_error(pod, missing)
            return
        node = pod["spec"].get("nodeName", "")
        for c in pod["spec"]["containers"]:
            image, path = c["image"], f"spec.containers{{{c['name']}}}"
            took = f"{self.state.timings.pod_start:.3f}s"
            for reason, message in (
                ("Pulling", f'Pulling image "{image}"'),
                ("Pulled", f'Successfully pulled image "{image}" in {took}'),
                ("Created", f"Created container: {c['name']}"),
                ("Started", f"Started container {c['name']}"),
            ):
                self.events.record(pod, reason, message, host=node, field_path=path)
        before = pod.get("status") or {}
        restarts = max(
            (int(cs.get("restartCount") or 0) for cs in before.get("containerStatuses") or []),
            default=0,
        )
        pod = self.set_status(
            pod, running_status(pod, now_iso(), ready=False, restarts=restarts, before=before)
        )
        self.on_started(pod["metadata"]["namespace"], pod["spec"]["containers"][0]["image"])
        if self._degraded(pod):
            self._after(pod, min(self.state.timings.readiness, 1.0), self._crash)
        else:
            self._after(pod, self.state.timings.readiness, self._become_ready)

    def _become_ready(self, pod: Obj) -> None:
        if self._degraded(pod):
            self._crash(pod)
            return
        status = pod.get("status") or {}
        statuses = status.get("containerStatuses") or []
        restarts = max((int(cs.get("restartCount") or 0) for cs in statuses), default=0)
        started = next(
            (cs["state"]["running"].get("startedAt") for cs in statuses
             if "running" in (cs.get("state") or {})),
            None,
        ) or status.get("startTime") or now_iso()  # fmt: skip
        ready = running_status(pod, started, ready=True, restarts=restarts, before=status)
        ready["conditions"] = _conditions(now_iso(), scheduled=True, ready=True, started=True)
        self.set_status(pod, ready)

    def _crash(self, pod: Obj) -> None:
        """One more crash, or the recovery once the tenant is no longer degraded."""
        backoff = self.state.timings.crashloop_backoff
        if not self._degraded(pod):
            self._start_containers(pod)
            return
        pod = self.set_status(
            pod, crashed_status(pod["status"], pod["metadata"]["name"], backoff, now_iso())
        )
        name = pod["spec"]["containers"][0]["name"]
        self.events.record(
            pod,
            "BackOff",
            f"Back-off restarting failed container {name} in pod "
            f"{pod['metadata']['name']}_{pod['metadata']['namespace']}"
            f"({pod['metadata']['uid']})",
            type_="Warning",
            host=pod["spec"].get("nodeName", ""),
            field_path=f"spec.containers{{{name}}}",
        )
        self._after(pod, backoff, self._crash)

    def degrade(self, namespace: str) -> None:
        """The tenant just became degraded (or recovered): its running pods follow."""
        for pod in self.store.list(PODS, namespace):
            if (pod.get("status") or {}).get("phase") == "Running" and not self._crashing(pod):
                self._after(pod, 0.0, self._crash)
