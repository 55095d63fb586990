"""An ApplicationSet's strategy: AllAtOnce (the console drives) or RollingSync with its steps,
each Application's step (-1 = matched by no step) and status.applicationStatus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ncconsole.kube.argocd import ARGO, Obj
from ncconsole.kube.connection import ApiStatusError, KubeConnection


def appset_path(namespace: str, name: str) -> str:
    return f"{ARGO}/namespaces/{namespace}/applicationsets/{name}"


@dataclass(frozen=True)
class RollingStep:
    index: int  # 1-based, as status.applicationStatus[].step says
    match_expressions: tuple[Obj, ...]
    max_update: Any  # None = all at once, 0 = manual, n or "25%"

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether the step selects an Application with `labels`, exactly as the
        ApplicationSet controller decides (applicationset/progressivesync/progressive_sync.go
        labelMatchedExpression): only In and NotIn are operators; any other one on a label
        the Application has selects nothing, and a missing label fails only an In."""
        for expr in self.match_expressions:
            key = str(expr.get("key", ""))
            op = str(expr.get("operator") or "")
            if key in labels:
                if not label_matched(labels[key], op, [str(v) for v in expr.get("values") or []]):
                    return False
            elif op == "In":
                return False
        return True


def label_matched(value: str, operator: str, values: list[str]) -> bool:
    """progressive_sync.go labelMatchedExpression: In/NotIn on one label value; any other
    operator is invalid there (the controller logs it) and matches nothing."""
    if operator not in ("In", "NotIn"):
        return False
    return (value in values) == (operator == "In")


@dataclass(frozen=True)
class AppSetStrategy:
    name: str
    type: str  # "AllAtOnce" (also when unset) | "RollingSync"
    steps: tuple[RollingStep, ...] = ()
    # application -> (step, status, message, targetRevisions)
    application_status: dict[str, tuple[str, str, str, tuple[str, ...]]] = field(
        default_factory=dict
    )

    def step_of(self, labels: dict[str, str]) -> int:
        """The 1-based step matching `labels`, or -1 (never synced by the controller)."""
        return next((s.index for s in self.steps if s.matches(labels)), -1)


def read_appset_strategy(conn: KubeConnection, namespace: str, name: str) -> AppSetStrategy | None:
    """The ApplicationSet's strategy; None when it does not exist."""
    try:
        appset = conn.get_json(appset_path(namespace, name))
    except ApiStatusError as err:
        if err.status == 404:
            return None
        raise
    return parse_appset_strategy(appset)


def parse_appset_strategy(appset: Obj) -> AppSetStrategy:
    strategy = (appset.get("spec") or {}).get("strategy") or {}
    kind = strategy.get("type") or "AllAtOnce"
    steps = tuple(
        RollingStep(i, tuple(step.get("matchExpressions") or ()), step.get("maxUpdate"))
        for i, step in enumerate((strategy.get("rollingSync") or {}).get("steps") or [], start=1)
    )
    statuses = {
        str(s.get("application")): (
            str(s.get("step", "")),
            str(s.get("status", "")),
            str(s.get("message", "")),
            tuple(s.get("targetRevisions") or ()),
        )
        for s in (appset.get("status") or {}).get("applicationStatus") or []
        if isinstance(s, dict)
    }
    name = (appset.get("metadata") or {}).get("name", "")
    return AppSetStrategy(name, kind, steps if kind == "RollingSync" else (), statuses)
