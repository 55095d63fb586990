"""Fixing one tenant: restart it (a rollout restart of its Deployment), delete one of its pods,
stop Argo CD's running operation, hard-refresh its Application.

Every action runs the same way: refused in read-only mode and checked against RBAC with an
access review before anything else (`preflight`, which the console also calls before it asks),
refused without a confirmation, audited (a JSON line, and an Event in the tenant namespace),
then followed to its end where there is one: the new pods Ready or the rollout failed, the
replacement pod Ready or broken. Syncs and rollbacks: ops/promotion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ncconsole.fleet.watches import NEXTCLOUD_SELECTOR
from ncconsole.kube.argocd import (
    NothingToTerminate,
    SyncRefused,
    get_app,
    request_refresh,
    terminate_operation,
)
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.objects import deployment_path, list_items
from ncconsole.kube.rollout import (
    DONE,
    RolloutState,
    delete_pod,
    follow,
    list_pods,
    replacement_state,
    restart_deployment,
    rollout_state,
)
from ncconsole.kube.views import parse_app
from ncconsole.ops.audit import AuditAction, Auditor, audited
from ncconsole.ops.errors import ConfirmationRequired, OpsError, Refused
from ncconsole.ops.guard import Permission, denied, require_access, require_writable
from ncconsole.settings import Settings

ARGO_GROUP = "argoproj.io"
# What each action needs, for the access review (verb, resource, where, group).
ACTIONS = {
    "restart": "restart the tenant",
    "delete-pod": "delete a pod",
    "sync": "sync the tenant",
    "rollback": "roll the tenant back",
    "terminate": "terminate the running operation",
    "refresh": "hard-refresh the Application",
}


def permissions(settings: Settings, action: str, tenant: str) -> list[Permission]:
    namespace, argo = settings.namespace_for(tenant), settings.argocd_namespace
    return {
        "restart": [Permission("patch", "deployments", namespace, "apps")],
        "delete-pod": [Permission("delete", "pods", namespace)],
        "sync": [Permission("patch", "applications", argo, ARGO_GROUP)],
        "rollback": [Permission("patch", "applications", argo, ARGO_GROUP)],
        "terminate": [Permission("update", "applications", argo, ARGO_GROUP)],
        "refresh": [Permission("patch", "applications", argo, ARGO_GROUP)],
    }[action]


def preflight(conn: KubeConnection, settings: Settings, action: str, tenant: str) -> None:
    """ReadOnlyRefused in read-only mode, AccessDenied (verb, resource, namespace) when RBAC
    would refuse; nothing is changed. Called before a confirmation is asked, and again by
    the action itself."""
    require_writable(settings, f"{ACTIONS[action]} {tenant}")
    require_access(conn, *permissions(settings, action, tenant))


def _confirmed(confirmed: bool, what: str) -> None:
    if not confirmed:
        raise ConfirmationRequired(f"{what}: confirm it (--yes on the command line)")


@dataclass(frozen=True)
class ActionResult:
    """How a followed action ended: "done", "failed", "timeout", "cancelled" or "requested"
    (not followed)."""

    outcome: str
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome in ("done", "requested")

    @property
    def exit_code(self) -> int:
        return {"done": 0, "requested": 0, "cancelled": 130}.get(self.outcome, 1)


def _ended(state: RolloutState, how: str, timeout: float) -> ActionResult:
    if how == "cancelled":
        return ActionResult("cancelled", f"not followed further: {state.message}")
    if how == "timeout":
        return ActionResult("timeout", f"timed out after {timeout:g} s: {state.message}")
    return ActionResult("done" if state.state == DONE else "failed", state.message)


def _finish(act: AuditAction, result: ActionResult) -> ActionResult:
    outcome = {"done": "ok", "requested": "ok", "cancelled": "interrupted"}
    act.result = outcome.get(result.outcome, "failed")
    act.exit_code, act.message = result.exit_code, result.message
    return result


def tenant_deployment(conn: KubeConnection, settings: Settings, tenant: str) -> str:
    """The name of the tenant's Nextcloud Deployment (OpsError when it has none)."""
    namespace = settings.namespace_for(tenant)
    try:
        found = list_items(conn, deployment_path(namespace), labels=NEXTCLOUD_SELECTOR)
    except ApiStatusError as err:
        raise denied(err, "list", "deployments", namespace, group="apps") from None
    if not found:
        raise OpsError(f"tenant {tenant}: no Nextcloud Deployment in {namespace}")
    return str(found[0]["metadata"]["name"])


def restart(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    *,
    confirmed: bool,
    auditor: Auditor | None = None,
    timeout: float = 600.0,
    follow_up: bool = True,
    on_state: Callable[[RolloutState], None] = lambda state: None,
    cancel: threading.Event | None = None,
) -> ActionResult:
    """Rollout restart of the tenant's Deployment, followed until every new pod is Ready or
    the rollout fails (its progress deadline exceeded)."""
    namespace = settings.namespace_for(tenant)
    with audited(auditor, "restart", f"{namespace}/deployment", {"timeout": timeout},
                 namespace=namespace, reason="NcconsoleRestart") as act:  # fmt: skip
        preflight(conn, settings, "restart", tenant)
        name = tenant_deployment(conn, settings, tenant)
        act.target = f"{namespace}/deployment/{name}"
        _confirmed(confirmed, f"restart deployment {namespace}/{name}")
        try:
            restart_deployment(conn, namespace, name)
        except ApiStatusError as err:
            raise denied(err, "patch", "deployments", namespace, group="apps") from None
        if not follow_up:
            return _finish(act, ActionResult("requested", f"restart of {name} requested"))

        def read() -> RolloutState:
            return rollout_state(conn.get_json(deployment_path(namespace, name)))

        state, how = follow(read, timeout=timeout, on_state=on_state, cancel=cancel)
        return _finish(act, _ended(state, how, timeout))


def remove_pod(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    pod: str,
    *,
    confirmed: bool,
    auditor: Auditor | None = None,
    timeout: float = 300.0,
    follow_up: bool = True,
    on_state: Callable[[RolloutState], None] = lambda state: None,
    cancel: threading.Event | None = None,
) -> ActionResult:
    """Delete one of the tenant's pods; its ReplicaSet replaces it, followed until the
    replacement is Ready or broken (CrashLoopBackOff, ...)."""
    namespace = settings.namespace_for(tenant)
    with audited(auditor, "delete-pod", f"{namespace}/pod/{pod}", {"timeout": timeout},
                 namespace=namespace, reason="NcconsoleDeletePod") as act:  # fmt: skip
        preflight(conn, settings, "delete-pod", tenant)
        before = list_pods(conn, namespace, NEXTCLOUD_SELECTOR)
        names = {p["metadata"]["name"] for p in before}
        if pod not in names:
            raise OpsError(
                f"tenant {tenant}: no Nextcloud pod {pod} (pods: {', '.join(sorted(names))})"
            )
        _confirmed(confirmed, f"delete pod {namespace}/{pod}")
        try:
            delete_pod(conn, namespace, pod)
        except ApiStatusError as err:
            if err.status == 404:
                raise OpsError(f"pod {namespace}/{pod} is already gone") from None
            raise denied(err, "delete", "pods", namespace) from None
        if not follow_up:
            return _finish(act, ActionResult("requested", f"pod {pod} deleted"))
        want = len(names)

        def read() -> RolloutState:
            return replacement_state(list_pods(conn, namespace, NEXTCLOUD_SELECTOR), names, want)

        state, how = follow(read, timeout=timeout, on_state=on_state, cancel=cancel)
        return _finish(act, _ended(state, how, timeout))


def running_operation(conn: KubeConnection, settings: Settings, tenant: str) -> str:
    """What Argo CD is doing for the tenant now ("sync Running: ..., by ..."), for the
    question before a terminate; Refused when no operation is in progress."""
    app, argo = settings.app_name_for(tenant), settings.argocd_namespace
    try:
        raw = get_app(conn, argo, app)
    except ApiStatusError as err:
        if err.status == 404:
            raise OpsError(f"tenant {tenant}: no Application {argo}/{app}") from None
        raise denied(err, "get", "applications", argo, group=ARGO_GROUP) from None
    view = parse_app(raw)
    if not view.operation_requested or not view.operation_phase:
        raise Refused(f"Application {app}: no operation is in progress; nothing to terminate")
    who = f", by {view.operation_initiator}" if view.operation_initiator else ""
    return f"sync {view.operation_phase}: {view.operation_message or '…'}{who}"


def terminate(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    *,
    confirmed: bool,
    auditor: Auditor | None = None,
) -> ActionResult:
    """Stop the Application's running operation like `argocd app terminate-op`."""
    app, argo = settings.app_name_for(tenant), settings.argocd_namespace
    namespace = settings.namespace_for(tenant)
    with audited(auditor, "terminate", f"{argo}/{app}", {}, namespace=namespace,
                 reason="NcconsoleTerminate") as act:  # fmt: skip
        preflight(conn, settings, "terminate", tenant)
        _confirmed(confirmed, f"terminate the running operation of {argo}/{app}")
        try:
            terminate_operation(conn, argo, app)
        except NothingToTerminate as err:
            raise Refused(str(err)) from None
        except SyncRefused as err:
            raise OpsError(str(err)) from None
        except ApiStatusError as err:
            raise denied(err, "update", "applications", argo, group=ARGO_GROUP) from None
        return _finish(
            act, ActionResult("requested", f"{app}: operation Terminating; Argo CD stops it")
        )


def refresh(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    *,
    confirmed: bool,
    hard: bool = True,
    auditor: Auditor | None = None,
) -> ActionResult:
    """Ask Argo CD to compare the Application with Git now; hard also drops its manifest
    cache (the annotation argocd.argoproj.io/refresh, removed by the controller)."""
    app, argo = settings.app_name_for(tenant), settings.argocd_namespace
    namespace = settings.namespace_for(tenant)
    kind = "hard" if hard else "normal"
    with audited(auditor, "refresh", f"{argo}/{app}", {"kind": kind}, namespace=namespace,
                 reason="NcconsoleRefresh") as act:  # fmt: skip
        preflight(conn, settings, "refresh", tenant)
        _confirmed(confirmed, f"{kind} refresh of {argo}/{app}")
        try:
            request_refresh(conn, argo, app, hard=hard)
        except ApiStatusError as err:
            if err.status == 404:
                raise OpsError(f"tenant {tenant}: no Application {argo}/{app}") from None
            raise denied(err, "patch", "applications", argo, group=ARGO_GROUP) from None
        return _finish(act, ActionResult("requested", f"{kind} refresh of {app} requested"))
