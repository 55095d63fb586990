"""What the real registry strategies set or rewrite on every write, whoever writes.

The simulated store applies these on create and update so that objects look as a real
apiserver stores them (each rule names its upstream source):
- a Namespace always carries the label `kubernetes.io/metadata.name: <name>`
  (pkg/registry/core/namespace/strategy.go);
- a Secret's `stringData` is merged into `data` and dropped (pkg/apis/core/v1/conversion.go);
- a core/v1 Event serialises `eventTime` (null), `reportingComponent` and `reportingInstance`
  ("") even when unset: they have no omitempty (staging/src/k8s.io/api/core/v1/types.go);
- a new Pod gets the spec and container defaults (pkg/apis/core/v1/defaults.go), the
  ServiceAccount admission plugin's token volume and the DefaultTolerationSeconds plugin's
  tolerations, as `kubectl run --dry-run=server` shows them on kube-apiserver 1.36.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from ncconsole.sim.apiserver.resources import ResourceType

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_POD_SPEC_DEFAULTS: dict[str, Any] = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "securityContext": {},
    "schedulerName": "default-scheduler",
    "priority": 0,
    "enableServiceLinks": True,
    "preemptionPolicy": "PreemptLowerPriority",
}
_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300}
    for taint in ("not-ready", "unreachable")
]  # fmt: skip


def _token_volume(name: str) -> dict[str, Any]:
    namespace = {"apiVersion": "v1", "fieldPath": "metadata.namespace"}
    root_ca = {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": root_ca},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": namespace}]}},
            ],
            "defaultMode": 420,
        },
    }


def _pull_policy(image: str) -> str:
    tag = image.rsplit("/", 1)[-1].partition("@")[0]
    return "IfNotPresent" if ":" in tag and not tag.endswith(":latest") else "Always"


def _pod_defaults(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    for key, value in _POD_SPEC_DEFAULTS.items():
        spec.setdefault(key, value)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    spec.setdefault("tolerations", [dict(t) for t in _TOLERATIONS])
    volumes = spec.setdefault("volumes", [])
    token = next(
        (v["name"] for v in volumes if v.get("name", "").startswith("kube-api-access-")), None
    )
    if token is None and spec.get("automountServiceAccountToken", True):
        token = f"kube-api-access-{secrets.token_hex(3)[:5]}"
        volumes.append(_token_volume(token))
    for container in spec.get("containers") or []:
        container.setdefault("resources", {})
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("imagePullPolicy", _pull_policy(str(container.get("image", ""))))
        mounts = container.setdefault("volumeMounts", [])
        if token and not any(m.get("mountPath") == TOKEN_MOUNT for m in mounts):
            mounts.append({"name": token, "readOnly": True, "mountPath": TOKEN_MOUNT})


def apply_defaults(rt: ResourceType, obj: dict[str, Any], *, creating: bool = False) -> None:
    """Rewrite `obj` in place as the real strategy for its kind would (`creating`: also what
    only happens on create, such as a Pod's defaults and admission)."""
    if not rt.builtin:
        return
    if rt.kind == "Pod" and creating:
        _pod_defaults(obj)
    if rt.kind == "Namespace":
        meta = obj.setdefault("metadata", {})
        labels = meta.get("labels") or {}
        meta["labels"] = {**labels, NAMESPACE_NAME_LABEL: meta.get("name", "")}
    elif rt.kind == "Secret" and "stringData" in obj:
        data = dict(obj.get("data") or {})
        for key, value in (obj.pop("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data
    elif rt.kind == "Event" and rt.group == "":
        obj.setdefault("eventTime", None)
        obj.setdefault("reportingComponent", "")
        obj.setdefault("reportingInstance", "")
