"""Restarting a Deployment and replacing a pod, and following either to its end.

- `restart_deployment` is `kubectl rollout restart`: it stamps the pod template with the
  `kubectl.kubernetes.io/restartedAt` annotation, so the Deployment makes a new ReplicaSet
  and replaces every pod.
- `rollout_state` reads a Deployment the way `kubectl rollout status` does
  (kubectl/pkg/polymorphichelpers/rollout_status.go): waiting for the spec to be observed,
  for new replicas, for old ones to go, for updated ones to become available; failed once the
  Progressing condition says ProgressDeadlineExceeded.
- `delete_pod` deletes one pod; `replacement_state` says how its replacement is doing.
- `follow` polls one of those until it is final, times out or is cancelled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.objects import deployment_path, list_items, pod_path

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MERGE_PATCH = "application/merge-patch+json"
Obj = dict[str, Any]
WAITING, DONE, FAILED = "waiting", "done", "failed"


@dataclass(frozen=True)
class RolloutState:
    state: str  # waiting | done | failed
    message: str


def restart_deployment(conn: KubeConnection, namespace: str, name: str) -> Obj:
    """Stamp the pod template with restartedAt (now, UTC); the patched Deployment."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    return conn.request_json(
        "PATCH", deployment_path(namespace, name), None, patch, content_type=MERGE_PATCH
    )


def rollout_state(deployment: Obj) -> RolloutState:
    """Where the Deployment's rollout stands, in `kubectl rollout status` words."""
    meta, spec = deployment.get("metadata") or {}, deployment.get("spec") or {}
    status = deployment.get("status") or {}
    name = meta.get("name", "?")
    if int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return RolloutState(WAITING, "Waiting for deployment spec update to be observed...")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutState(FAILED, f'deployment "{name}" exceeded its progress deadline')
    want = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    prefix = f'Waiting for deployment "{name}" rollout to finish:'
    if updated < want:
        return RolloutState(
            WAITING, f"{prefix} {updated} out of {want} new replicas have been updated..."
        )
    if total > updated:
        return RolloutState(
            WAITING, f"{prefix} {total - updated} old replicas are pending termination..."
        )
    if available < updated:
        return RolloutState(
            WAITING, f"{prefix} {available} of {updated} updated replicas are available..."
        )
    return RolloutState(DONE, f'deployment "{name}" successfully rolled out')


def delete_pod(conn: KubeConnection, namespace: str, name: str) -> Obj:
    return conn.request_json("DELETE", pod_path(namespace, name))


def _ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _broken(pod: Obj) -> str:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason", "")
        if reason in ("CrashLoopBackOff", "CreateContainerConfigError", "ImagePullBackOff",
                      "ErrImagePull", "InvalidImageName"):  # fmt: skip
            return reason
    return ""


def replacement_state(pods: list[Obj], before: set[str], want: int) -> RolloutState:
    """How the pods that replaced a deleted one are doing: new pods (not in `before`) Ready,
    or one of them broken (CrashLoopBackOff, ...)."""
    new = [p for p in pods if (p.get("metadata") or {}).get("name") not in before]
    for pod in new:
        reason = _broken(pod)
        if reason:
            return RolloutState(FAILED, f"replacement {pod['metadata']['name']}: {reason}")
    ready = [p for p in new if _ready(p)]
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    if ready and len([p for p in live if _ready(p)]) >= want:
        names = ", ".join(p["metadata"]["name"] for p in ready)
        return RolloutState(DONE, f"replacement {names} Ready; {len(live)}/{want} pods Ready")
    if not new:
        return RolloutState(WAITING, "waiting for the ReplicaSet to create a replacement")
    phases = ", ".join(
        f"{p['metadata']['name']} {(p.get('status') or {}).get('phase', 'Pending')}" for p in new
    )
    return RolloutState(WAITING, f"waiting for the replacement to be Ready ({phases})")


def list_pods(conn: KubeConnection, namespace: str, selector: str) -> list[Obj]:
    return list_items(conn, pod_path(namespace), labels=selector)


def follow(
    read: Callable[[], RolloutState],
    *,
    timeout: float,
    on_state: Callable[[RolloutState], None] = lambda state: None,
    cancel: threading.Event | None = None,
    interval: float = 0.5,
) -> tuple[RolloutState, str]:
    """Poll `read` until DONE or FAILED; (last state, "done" | "timeout" | "cancelled").
    The API going away for a moment is waited out within the timeout."""
    deadline = time.monotonic() + timeout
    last = RolloutState(WAITING, "starting")
    while True:
        try:
            state = read()
        except ApiUnreachable as err:
            state = RolloutState(WAITING, f"{err}; retrying")
        except ApiStatusError as err:
            if err.status >= 500:
                state = RolloutState(WAITING, f"{err}; retrying")
            else:
                raise
        if state != last:
            on_state(state)
            last = state
        if state.state in (DONE, FAILED):
            return state, "done"
        if cancel is not None and cancel.is_set():
            return last, "cancelled"
        if time.monotonic() >= deadline:
            return last, "timeout"
        if cancel is not None:
            cancel.wait(interval)
        else:
            time.sleep(interval)
