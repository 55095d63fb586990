"""Field validation the real apiserver does for kinds the console writes, with its 422 bodies.

Only what a client of this simulator can get wrong is checked, each rule from its upstream
source:
- Lease: `spec.leaseDurationSeconds` and `spec.leaseTransitions`
  (pkg/apis/coordination/validation/validation.go ValidateLeaseSpec).
"""

from __future__ import annotations

from typing import Any

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.resources import ResourceType


def validate(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Raise the real 422 ApiError when `obj` is not a valid `rt`."""
    if rt.kind == "Lease" and rt.group == "coordination.k8s.io":
        _lease(rt, obj)


def _lease(rt: ResourceType, obj: dict[str, Any]) -> None:
    spec = obj.get("spec") or {}
    causes: list[tuple[str, Any, str]] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        causes.append(("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        causes.append(("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    if causes:
        name = (obj.get("metadata") or {}).get("name", "")
        raise ApiError.invalid(rt.kind, rt.group, name, causes)
