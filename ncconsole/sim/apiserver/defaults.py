"""What the real registry strategies set or rewrite on every write, whoever writes.

The simulated store applies these on create and update so that objects look as a real
apiserver stores them (each rule names its upstream source):
- a Namespace always carries the label `kubernetes.io/metadata.name: <name>`
  (pkg/registry/core/namespace/strategy.go);
- a Secret's `stringData` is merged into `data` and dropped (pkg/apis/core/v1/conversion.go);
- a core/v1 Event serialises `eventTime` (null), `reportingComponent` and `reportingInstance`
  ("") even when unset: they have no omitempty (staging/src/k8s.io/api/core/v1/types.go).
"""

from __future__ import annotations

import base64
from typing import Any

from ncconsole.sim.apiserver.resources import ResourceType

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Rewrite `obj` in place as the real strategy for its kind would."""
    if not rt.builtin:
        return
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
