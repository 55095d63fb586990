"""Argo CD's sync operations: what happens between an `operation` written onto an
Application and its `operationState` ending Succeeded, Failed or Error.

A mixin of `ArgoCdController`, which owns the state it reads (store, head, desired and
deployed versions) and the health reconciler it queues.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, SERVICES
from ncconsole.sim.apiserver.store import Store, now_iso
from ncconsole.sim.controllers.argocd_status import (
    deployment_health,
    managed_resources,
    sync_block,
)
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import ARGOCD_NAMESPACE, PlatformState, Reconciler
from ncconsole.sim.nextcloud.manifests import (
    NC_SELECTOR,
    image_of,
    namespace_manifest,
    nextcloud_deployment,
    service_manifest,
)
from ncconsole.sim.platform_repo.repo import DesiredVersion, desired_versions

Obj = dict[str, Any]
COMPONENT = "argocd-application-controller"


def resolve_revision(repo: Path, revision: str) -> str | None:
    """The commit sha `revision` (a sha, short sha, branch or HEAD) names, or None."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


class SyncOperations:
    store: Store
    state: PlatformState
    events: EventRecorder
    head: str
    desired: dict[str, DesiredVersion]
    deployed: dict[str, DesiredVersion]
    _health: Reconciler

    def _tenant(self, app: Obj) -> str | None:
        tenant = (app["metadata"].get("labels") or {}).get("tenant")
        return tenant if tenant in self.state.instances else None

    async def _sync(self, name: str) -> None:
        app = self.store.get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        operation = app["operation"]
        tenant = self._tenant(app)
        sync = operation.get("sync") or {}
        # Multi-source Applications name a revision per source; the values repo is the last.
        revision = sync.get("revision") or (sync.get("revisions") or [""])[-1] or self.head
        started = now_iso()
        user = (operation.get("initiatedBy") or {}).get("username") or "Unknown user"
        automated = (operation.get("initiatedBy") or {}).get("automated")

        def running(obj: Obj) -> None:
            obj.setdefault("status", {})["operationState"] = {
                "operation": operation,
                "phase": "Running",
                "message": "one or more tasks are running",
                "startedAt": started,
                "retryCount": 0,
            }

        app = self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, name, running)
        who = "automated sync" if automated else f"{user} initiated sync"
        message = f"Initiated {who} to {revision}" if automated else f"{who} to {revision}"
        self.events.record(app, "OperationStarted", message, component=COMPONENT)
        await asyncio.sleep(self.state.timings.sync)
        current = self.store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, name) or app
        for condition in (current.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ComparisonError":  # nothing to apply
                self._finish(name, "Error", f"ComparisonError: {condition.get('message', '')}")
                return
        loop = asyncio.get_running_loop()
        wanted = revision
        revision = await loop.run_in_executor(None, resolve_revision, self.state.repo, wanted)
        if revision is None:
            self._finish(
                name, "Error",
                f"rpc error: code = Unknown desc = unable to resolve '{wanted}' to a commit SHA",
            )  # fmt: skip
            return
        if revision == self.head:
            versions = self.desired
        else:
            versions = await loop.run_in_executor(None, desired_versions, self.state.repo, revision)
        if tenant is None or tenant not in versions:
            self._finish(name, "Error", f"tenant of {name} is not in revision {revision[:12]}")
            return
        version = versions[tenant]
        failure = (
            "one or more objects failed to apply, reason: admission webhook "
            '"validate.nextcloud.example.com" denied the request: Deployment "nextcloud" '
            f"in namespace nc-{tenant} violates policy nextcloud-tenant-default"
        )
        retries = int((operation.get("retry") or {}).get("limit") or 0)
        for attempt in range(1, retries + 1):
            if tenant not in self.state.sync_fails:
                break
            # Argo CD's retry backoff: still Running, but with finishedAt set.
            self._retrying(name, attempt, failure)
            await asyncio.sleep(self.state.timings.sync)
        if tenant in self.state.sync_fails:
            self._finish(name, "Failed", failure)
            return
        self._apply(tenant, version)
        self.deployed[tenant] = version
        self._finish(name, "Succeeded", "successfully synced (all tasks run)", revision, version)

    def _retrying(self, name: str, attempt: int, failure: str) -> None:
        stamp = now_iso()

        def mutate(obj: Obj) -> None:
            op_state = obj.setdefault("status", {}).setdefault("operationState", {})
            op_state.update(
                phase="Running",
                message=f"Retrying attempt #{attempt} at {stamp[11:19]}. {failure}",
                finishedAt=stamp,
                retryCount=attempt,
            )

        self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, name, mutate)

    def _apply(self, tenant: str, version: DesiredVersion) -> None:
        """What `helm template | kubectl apply` (with CreateNamespace=true) does in the tenant's
        namespace: create what is missing, change the chart label and image of what exists."""
        spec = self.state.tenants[tenant]
        namespace = spec.namespace
        if self.store.try_get(NAMESPACES, None, namespace) is None:
            self.store.create(NAMESPACES, namespace_manifest(namespace, {"tenant": tenant}))
        if self.store.try_get(SERVICES, namespace, "nextcloud") is None:
            selector = dict(NC_SELECTOR)
            self.store.create(
                SERVICES, service_manifest(namespace, "nextcloud", selector, 8080, 80)
            )
        rendered = nextcloud_deployment(spec, version)
        if self.store.try_get(DEPLOYMENTS, namespace, "nextcloud") is None:
            self.store.create(DEPLOYMENTS, rendered)
            return

        def mutate(deployment: Obj) -> None:
            deployment["metadata"].setdefault("labels", {}).update(rendered["metadata"]["labels"])
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                if container["name"] == "nextcloud":
                    container["image"] = image_of(version)

        self.store.update(DEPLOYMENTS, namespace, "nextcloud", mutate)

    def _finish(
        self,
        name: str,
        phase: str,
        message: str,
        revision: str = "",
        version: DesiredVersion | None = None,
    ) -> None:
        finished = now_iso()
        app_now = self.store.get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        tenant = self._tenant(app_now)

        def mutate(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            op_state = dict(st.get("operationState") or {})
            op_state.update(phase=phase, message=message, finishedAt=finished)
            if version is not None:
                op_state["syncResult"] = {
                    "revision": revision,
                    "revisions": [version.chart_version, revision],
                    "resources": [
                        {
                            "group": "apps", "version": "v1", "kind": "Deployment",
                            "namespace": obj["spec"]["destination"]["namespace"],
                            "name": "nextcloud", "status": "Synced",
                            "message": "deployment.apps/nextcloud configured",
                            "hookPhase": "Running", "syncPhase": "Sync",
                        }
                    ],
                }  # fmt: skip
                history = st.setdefault("history", [])
                history.append(
                    {
                        "id": max((h.get("id", 0) for h in history), default=-1) + 1,
                        "revision": revision,
                        "revisions": [version.chart_version, revision],
                        "deployStartedAt": op_state.get("startedAt", finished),
                        "deployedAt": finished,
                        "initiatedBy": (op_state.get("operation") or {}).get("initiatedBy", {}),
                    }
                )
                del history[:-10]  # Argo CD's default revisionHistoryLimit
            st["operationState"] = op_state
            obj.pop("operation", None)
            conditions = [c for c in st.get("conditions") or [] if c.get("type") != "SyncError"]
            if phase != "Succeeded":
                conditions.append(
                    {"type": "SyncError", "lastTransitionTime": finished,
                     "message": f"Failed sync attempt to {revision or self.head}: {message}"}
                )  # fmt: skip
            if conditions:
                st["conditions"] = conditions
            else:
                st.pop("conditions", None)
            unrenderable = any(c.get("type") == "ComparisonError" for c in conditions)
            if tenant is not None and tenant in self.desired and not unrenderable:
                desired = self.desired[tenant]
                synced = "Synced" if self.deployed.get(tenant) == desired else "OutOfSync"
                namespace = obj["spec"]["destination"]["namespace"]
                st["sync"] = sync_block(synced, self.head, desired.chart_version, namespace)
                st["resources"] = managed_resources(namespace, synced)
                # In the same write as the result, so no reader sees Succeeded + the old health.
                deployment = self.store.try_get(DEPLOYMENTS, namespace, "nextcloud")
                health, health_message = deployment_health(deployment)
                st["health"] = {
                    "status": health,
                    **({"message": health_message} if health_message else {}),
                }
            st["reconciledAt"] = finished

        app = self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, name, mutate)
        ok = phase == "Succeeded"
        text = (
            f"Sync operation to {revision} succeeded" if ok else f"Sync operation failed: {message}"
        )
        self.events.record(
            app, "OperationCompleted", text, type_="Normal" if ok else "Warning",
            component=COMPONENT,
        )  # fmt: skip
        self._health.queue((ARGOCD_NAMESPACE, name))
