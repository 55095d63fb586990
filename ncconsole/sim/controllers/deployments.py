"""The Deployment controller (with the ReplicaSet's job folded in): a Deployment owns pods
named `<deployment>-<template hash>-<id>`, labelled with its template's labels and
`pod-template-hash`. A template change replaces every pod (strategy Recreate, the Nextcloud
chart's default), a deleted pod is replaced, and `status` reports replicas, updated, ready
and available pods, observedGeneration and the Available/Progressing conditions - with
ProgressDeadlineExceeded while the pods crash-loop, which is what Argo CD reads as Degraded.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from ncconsole.sim.apiserver.resources import DEPLOYMENTS, PODS
from ncconsole.sim.apiserver.store import Store, WatchEvent, now_iso
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import Reconciler

Obj = dict[str, Any]
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' SafeEncodeString alphabet
HASH_LABEL = "pod-template-hash"


def _encode(digest: bytes, length: int) -> str:
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def template_hash(template: Obj) -> str:
    raw = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return _encode(hashlib.sha256(raw.encode()).digest(), 10)


def selector_string(deployment: Obj) -> str:
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def new_pod(deployment: Obj, pod_hash: str, name_suffix: str | None = None) -> Obj:
    """A pod of `deployment`'s current template, as its ReplicaSet would create it."""
    meta = deployment["metadata"]
    # A JSON round trip copies plain data several times faster than copy.deepcopy.
    template = json.loads(json.dumps((deployment.get("spec") or {}).get("template") or {}))
    tmeta = template.get("metadata") or {}
    rs_name = f"{meta['name']}-{pod_hash}"
    suffix = name_suffix or "".join(secrets.choice(_ALPHABET) for _ in range(5))
    spec = template.get("spec") or {}
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("schedulerName", "default-scheduler")
    return {
        "metadata": {
            "name": f"{rs_name}-{suffix}",
            "generateName": f"{rs_name}-",
            "namespace": meta["namespace"],
            "labels": {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash},
            "annotations": dict(tmeta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{meta.get('uid')}/{pod_hash}")),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }


def _main_container(pod: Obj) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return str(containers[0].get("name", ""))


def _ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _crash_looping(pod: Obj) -> bool:
    return any(
        ((cs.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        for cs in (pod.get("status") or {}).get("containerStatuses") or []
    )


def deployment_status(deployment: Obj, pods: list[Obj], stamp: str) -> Obj:
    """The status the controller reports for `deployment` owning `pods`."""
    spec = deployment.get("spec") or {}
    want = int(spec.get("replicas", 1))
    current = template_hash(spec.get("template") or {})
    updated = [p for p in pods if p["metadata"]["labels"].get(HASH_LABEL) == current]
    ready = [p for p in pods if _ready(p)]
    available = len(ready)
    old = deployment.get("status") or {}
    old_conditions = {c.get("type"): c for c in old.get("conditions") or []}

    def condition(kind: str, ok: bool, reason: str, message: str) -> Obj:
        before = old_conditions.get(kind) or {}
        status = "True" if ok else "False"
        changed = before.get("status") != status
        transition = stamp if changed else before.get("lastTransitionTime", stamp)
        return {
            "type": kind,
            "status": status,
            "lastUpdateTime": stamp
            if changed or before.get("reason") != reason
            else before.get("lastUpdateTime", stamp),
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }

    name = f"{deployment['metadata']['name']}-{current}"
    done = len(updated) == want and available >= want and len(pods) == want
    if any(_crash_looping(p) for p in updated):
        progressing = condition(
            "Progressing", False, "ProgressDeadlineExceeded",
            f'ReplicaSet "{name}" has timed out progressing.',
        )  # fmt: skip
    elif done:
        progressing = condition(
            "Progressing", True, "NewReplicaSetAvailable",
            f'ReplicaSet "{name}" has successfully progressed.',
        )  # fmt: skip
    else:
        progressing = condition(
            "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
        )
    if available >= want:
        avail = condition(
            "Available", True, "MinimumReplicasAvailable", "Deployment has minimum availability."
        )
    else:
        avail = condition(
            "Available", False, "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )  # fmt: skip
    status: Obj = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": len(pods),
        "updatedReplicas": len(updated),
        "readyReplicas": len(ready),
        "availableReplicas": available,
        "conditions": [avail, progressing],
    }
    if len(pods) - available > 0:
        status["unavailableReplicas"] = len(pods) - available
    return {k: v for k, v in status.items() if v != 0 or k == "observedGeneration"}


class DeploymentController:
    """Reconciles Deployments and their pods; `events` (optional) gets the Events the
    deployment controller, the ReplicaSet controller and the kubelet write on the way."""

    def __init__(self, store: Store, events: EventRecorder | None = None) -> None:
        self.store = store
        self.events = events
        self._reconciler = Reconciler(self.reconcile)
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        self._unsubscribe = [
            self.store.subscribe(DEPLOYMENTS, self._on_deployment),
            self.store.subscribe(PODS, self._on_pod),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _on_deployment(self, ev: WatchEvent) -> None:
        meta = ev.obj["metadata"]
        if (
            ev.type == "MODIFIED"
            and ev.old is not None
            and ev.old.get("spec") == ev.obj.get("spec")
        ):
            return  # our own status write
        self._reconciler.queue((meta["namespace"], meta["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        meta = ev.obj["metadata"]
        for owner in meta.get("ownerReferences") or []:
            if owner.get("kind") == "ReplicaSet":
                deployment = owner["name"].rsplit("-", 1)[0]
                self._reconciler.queue((meta["namespace"], deployment))

    def _event(self, obj: Obj, reason: str, message: str, component: str = "kubelet") -> None:
        if self.events is not None:
            self.events.record(obj, reason, message, component=component)

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        deployment = self.store.try_get(DEPLOYMENTS, namespace, name)
        prefix = f"{name}-"
        if deployment is None:
            for pod in self.store.list(PODS, namespace):
                owners = pod["metadata"].get("ownerReferences") or []
                if any(o.get("name", "").rsplit("-", 1)[0] == name for o in owners):
                    self.store.delete(PODS, namespace, pod["metadata"]["name"])
            return
        spec = deployment.get("spec") or {}
        current = template_hash(spec.get("template") or {})
        pods = [
            p
            for p in self.store.list(PODS, namespace, selector_string(deployment))
            if p["metadata"]["name"].startswith(prefix)
        ]
        old = [p for p in pods if p["metadata"]["labels"].get(HASH_LABEL) != current]
        old_sets = sorted({p["metadata"]["labels"].get(HASH_LABEL, "") for p in old})
        for pod in old:  # Recreate: every old pod goes before the new ones come
            self.store.delete(PODS, namespace, pod["metadata"]["name"])
            self._event(pod, "Killing", f"Stopping container {_main_container(pod)}")
        for old_hash in old_sets:
            count = sum(1 for p in old if p["metadata"]["labels"].get(HASH_LABEL) == old_hash)
            self._event(deployment, "ScalingReplicaSet",
                        f"Scaled down replica set {name}-{old_hash} from {count} to 0",
                        "deployment-controller")  # fmt: skip
        pods = [p for p in pods if p not in old]
        want = int(spec.get("replicas", 1))
        if want > len(pods):
            self._event(deployment, "ScalingReplicaSet",
                        f"Scaled up replica set {name}-{current} from {len(pods)} to {want}",
                        "deployment-controller")  # fmt: skip
        for _ in range(want - len(pods)):
            pod = new_pod(deployment, current)
            while self.store.try_get(PODS, namespace, pod["metadata"]["name"]) is not None:
                pod = new_pod(deployment, current)
            pods.append(self.store.create(PODS, pod))
            owner = pod["metadata"]["ownerReferences"][0]
            replica_set = {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": owner["name"], "namespace": namespace, "uid": owner["uid"]},
            }  # fmt: skip
            created = f"Created pod: {pod['metadata']['name']}"
            self._event(replica_set, "SuccessfulCreate", created, "replicaset-controller")
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"])[want:]:
            self.store.delete(PODS, namespace, pod["metadata"]["name"])
            pods.remove(pod)
        status = deployment_status(deployment, pods, now_iso())
        if status != deployment.get("status"):
            self.store.update(DEPLOYMENTS, namespace, name, lambda d: {**d, "status": status})
