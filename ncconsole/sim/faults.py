"""Switching a tenant's faults on and off while the simulator runs. What a fault changes
lives where a client meets it: the controllers' shared state (crash loops, failing syncs),
the tenant's Nextcloud (maintenance, DB upgrade, status.php errors and delay) or the API's
authorizer (a forbidden namespace). The S3 side (a missing bucket) is the S3Service's."""

from __future__ import annotations

from ncconsole.sim.apiserver.auth import Auth, DenyRule
from ncconsole.sim.apiserver.resources import PODS
from ncconsole.sim.controllers.kubelet import Kubelet
from ncconsole.sim.controllers.state import PlatformState
from ncconsole.sim.scenario import TenantFaults

FAULTS = tuple(TenantFaults.model_fields)


def switch_fault(
    state: PlatformState,
    auth: Auth,
    kubelet: Kubelet | None,
    tenant: str,
    fault: str,
    value: bool | float,
) -> None:
    """Set `fault` of `tenant` to `value`; run in the simulator's loop thread."""
    instance, namespace = state.instances[tenant], f"nc-{tenant}"
    if fault == "degraded":
        (state.degraded.add if value else state.degraded.discard)(tenant)
        if value and kubelet is not None:
            kubelet.degrade(namespace)
    elif fault == "stale_crashloop":
        (state.stale_crashloop.add if value else state.stale_crashloop.discard)(tenant)
        uids = (
            {pod["metadata"]["uid"] for pod in kubelet.store.list(PODS, namespace)}
            if kubelet
            else set()
        )
        if value:
            state.stale_pods |= uids
            if kubelet is not None:
                kubelet.degrade(namespace)
        else:
            state.stale_pods -= uids
    elif fault == "sync_fails":
        (state.sync_fails.add if value else state.sync_fails.discard)(tenant)
    elif fault == "maintenance":
        instance.maintenance = bool(value)
    elif fault == "needs_db_upgrade":
        if value:  # config.php records an older version than the code: an upgrade is due
            major, minor, patch, _ = instance.code_version
            older = (major, minor, patch - 1, 1) if patch else (major - 1, 0, 0, 1)
            instance.system_config["version"] = ".".join(map(str, older))
        else:
            instance.upgrade()
    elif fault in ("statusphp_500", "statusphp_503"):
        code = 500 if fault == "statusphp_500" else 503
        instance.web_error = code if value else None
    elif fault == "statusphp_slow":
        instance.web_delay = float(value)
    elif fault == "namespace_forbidden":
        rule = DenyRule(namespaces=(namespace,))
        auth.deny_rules = [r for r in auth.deny_rules if r != rule]
        if value:
            auth.deny(rule)
