"""Simulated Argo CD: Applications follow the platform repo's HEAD and run sync operations.

- Like a repo server, it polls HEAD every `timings.repo_poll` seconds (a cheap read of .git);
  a new commit that changes a tenant's chart version or image tag gives that Application the
  new chart `targetRevision` and makes it OutOfSync; every Application's `sync.revision` is
  the commit it was compared with.
- An `operation` written onto an Application runs: operationState Running, then after
  `timings.sync` seconds Succeeded (the tenant's Deployment gets the new image and rolls) or
  Failed (the sync-fails fault); `.operation` is removed, history appended, `reconciledAt` set.
- Health follows the tenant Deployment as Argo CD's health check reads it: Progressing while
  it rolls, Healthy when done, Degraded when its progress deadline is exceeded.
- The refresh annotation makes it compare with HEAD at once; the annotation is then removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ncconsole.sim.controllers.appset_generator import tenant_specs
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import ARGOCD_NAMESPACE, PlatformState, Reconciler
from ncconsole.sim.manifests import (
    NC_SELECTOR,
    image_of,
    namespace_manifest,
    nextcloud_deployment,
    service_manifest,
)
from ncconsole.sim.platform_files import CHART_REPO_URL, GIT_REPO_URL
from ncconsole.sim.platform_repo import DesiredVersion, desired_versions, head_revision
from ncconsole.sim.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, SERVICES
from ncconsole.sim.scenario import TenantSpec
from ncconsole.sim.store import Store, WatchEvent, now_iso

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REFRESH = "argocd.argoproj.io/refresh"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
# (added tenant specs, removed tenant names), called in the loop thread
TenantsChanged = Callable[[list[TenantSpec], list[str]], None]
COMPONENT = "argocd-application-controller"


def sync_block(status: str, revision: str, chart: str, namespace: str) -> Obj:
    return {
        "status": status,
        "revision": revision,
        "revisions": [chart, revision],
        "comparedTo": {
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "sources": [
                {"repoURL": CHART_REPO_URL, "chart": "nextcloud", "targetRevision": chart},
                {"repoURL": GIT_REPO_URL, "targetRevision": "HEAD", "ref": "values"},
            ],
        },
    }


def managed_resources(namespace: str, sync: str) -> list[Obj]:
    """`status.resources`: what the chart deploys (no per-resource health since Argo CD 3.0)."""
    return [
        {"version": "v1", "kind": "Service", "namespace": namespace, "name": "nextcloud",
         "status": sync},
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": namespace,
         "name": "nextcloud", "status": sync},
    ]  # fmt: skip


def deployment_health(deployment: Obj | None) -> tuple[str, str]:
    """(health status, message) of a Deployment, following Argo CD's built-in check."""
    if deployment is None:
        return "Missing", ""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    name = deployment["metadata"]["name"]
    want = int(spec.get("replicas", 1))
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return "Degraded", f'Deployment "{name}" exceeded its progress deadline'
    if int(status.get("observedGeneration") or 0) < int(deployment["metadata"]["generation"]):
        return "Progressing", "Waiting for rollout to finish: observed deployment generation " \
            "less than desired generation"  # fmt: skip
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if updated < want:
        return "Progressing", (
            f"Waiting for rollout to finish: {updated} out of {want} new replicas have been "
            "updated..."
        )
    if total > updated:
        return "Progressing", (
            f"Waiting for rollout to finish: {total - updated} old replicas are pending "
            "termination..."
        )
    if available < updated:
        return "Progressing", (
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are "
            "available..."
        )
    return "Healthy", ""


class ArgoCdController:
    def __init__(
        self,
        store: Store,
        state: PlatformState,
        events: EventRecorder,
        *,
        head: str,
        desired: dict[str, DesiredVersion],
        deployed: dict[str, DesiredVersion],
        on_tenants_changed: TenantsChanged | None = None,
    ) -> None:
        self.store, self.state, self.events = store, state, events
        self.on_tenants_changed = on_tenants_changed
        self.head = head
        self.desired = desired
        self.deployed = deployed
        self.running: set[str] = set()
        self._health = Reconciler(self._update_health)
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task] = set()
        self._poller: asyncio.Task | None = None

    def start(self) -> None:
        self._unsubscribe = [
            self.store.subscribe(APPLICATIONS, self._on_application),
            self.store.subscribe(DEPLOYMENTS, self._on_deployment),
        ]
        self._poller = asyncio.get_running_loop().create_task(self._poll())
        for entry in self.store.list_page(APPLICATIONS, ARGOCD_NAMESPACE).entries:
            self._on_application(WatchEvent("ADDED", APPLICATIONS, entry.obj, 0))

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in [self._poller, *self._tasks]:
            if task is not None:
                task.cancel()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- following the repo ---------------------------------------------------------------
    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.state.timings.repo_poll)
            try:
                await self.compare_with_head()
            except Exception:  # a broken commit must not stop Argo CD for good
                log.exception("comparing with the platform repo failed")

    async def compare_with_head(self) -> None:
        head = head_revision(self.state.repo)
        if head == self.head:
            return
        loop = asyncio.get_running_loop()
        desired = await loop.run_in_executor(None, desired_versions, self.state.repo, head)
        self.head, self.desired = head, desired
        known = {
            (e.obj["metadata"].get("labels") or {}).get("tenant", "")
            for e in self.store.list_page(APPLICATIONS, ARGOCD_NAMESPACE).entries
        }
        if set(desired) != known and self.on_tenants_changed is not None:
            # The ApplicationSet's git generator: tenant files added or removed.
            domain = self.state.scenario.domain
            specs = await loop.run_in_executor(None, tenant_specs, self.state.repo, head, domain)
            added = [specs[name] for name in sorted(set(desired) - known) if name in specs]
            self.on_tenants_changed(added, sorted(known - set(desired) - {""}))
        for app in self.store.list(APPLICATIONS, ARGOCD_NAMESPACE):
            self._compare(app)

    def _tenant(self, app: Obj) -> str | None:
        tenant = (app["metadata"].get("labels") or {}).get("tenant")
        return tenant if tenant in self.state.instances else None

    def _compare(self, app: Obj) -> None:
        tenant = self._tenant(app)
        if tenant is None or tenant not in self.desired:
            return
        desired = self.desired[tenant]
        status = "Synced" if self.deployed.get(tenant) == desired else "OutOfSync"
        namespace = app["spec"]["destination"]["namespace"]
        before = ((app.get("status") or {}).get("sync") or {}).get("status")

        def mutate(obj: Obj) -> None:
            obj["spec"]["sources"][0]["targetRevision"] = desired.chart_version
            st = obj.setdefault("status", {})
            st["sync"] = sync_block(status, self.head, desired.chart_version, namespace)
            st["resources"] = managed_resources(namespace, status)
            st["reconciledAt"] = now_iso()

        app = self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, app["metadata"]["name"], mutate)
        if before != status:
            self.events.record(
                app, "ResourceUpdated", f"Updated sync status: {before} -> {status}",
                component=COMPONENT,
            )  # fmt: skip

    # --- reacting to changes --------------------------------------------------------------
    def _on_application(self, ev: WatchEvent) -> None:
        if ev.type == "DELETED":
            return
        app, name = ev.obj, ev.obj["metadata"]["name"]
        meta = app["metadata"]
        if meta.get("deletionTimestamp") and FINALIZER in (meta.get("finalizers") or []):
            asyncio.get_running_loop().call_soon(self._delete_resources, name)
            return
        if app.get("operation") and name not in self.running:
            self.running.add(name)
            self._spawn(self._run_operation(name))
        if REFRESH in (app["metadata"].get("annotations") or {}):
            self._spawn(self._refresh(name))

    def _delete_resources(self, name: str) -> None:
        """The resources finalizer: delete what the Application deployed, then let it go
        (a namespace made by CreateNamespace=true stays, as in Argo CD)."""
        app = self.store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        if app is None or FINALIZER not in (app["metadata"].get("finalizers") or []):
            return
        namespace = app["spec"]["destination"]["namespace"]
        for rt in (DEPLOYMENTS, SERVICES):
            if self.store.try_get(rt, namespace, "nextcloud") is not None:
                self.store.delete(rt, namespace, "nextcloud")

        def release(obj: Obj) -> None:
            obj["metadata"]["finalizers"] = [
                f for f in obj["metadata"].get("finalizers") or [] if f != FINALIZER
            ]

        self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, name, release)

    def _on_deployment(self, ev: WatchEvent) -> None:
        tenant = self.state.tenant_of_namespace(ev.obj["metadata"].get("namespace", ""))
        if tenant is not None and ev.obj["metadata"]["name"] == "nextcloud":
            self._health.queue((ARGOCD_NAMESPACE, f"nc-{tenant}"))

    async def _refresh(self, name: str) -> None:
        await asyncio.sleep(min(0.2, self.state.timings.repo_poll))
        await self.compare_with_head()
        app = self.store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        if app is None:
            return
        self._compare(app)

        def mutate(obj: Obj) -> None:
            (obj["metadata"].get("annotations") or {}).pop(REFRESH, None)
            obj.setdefault("status", {})["reconciledAt"] = now_iso()

        self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, name, mutate)

    def _update_health(self, key: tuple[str, str]) -> None:
        app = self.store.try_get(APPLICATIONS, *key)
        if app is None or self._tenant(app) is None:
            return
        namespace = app["spec"]["destination"]["namespace"]
        deployment = self.store.try_get(DEPLOYMENTS, namespace, "nextcloud")
        health, message = deployment_health(deployment)
        before = ((app.get("status") or {}).get("health") or {}).get("status")
        if before == health:
            return
        images = []
        if deployment is not None:
            containers = deployment["spec"]["template"]["spec"]["containers"]
            images = sorted({c["image"] for c in containers})

        def mutate(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["health"] = {"status": health, **({"message": message} if message else {})}
            st.setdefault("summary", {})["images"] = images
            st["reconciledAt"] = now_iso()

        app = self.store.update(APPLICATIONS, *key, mutate)
        self.events.record(
            app, "ResourceUpdated", f"Updated health status: {before} -> {health}",
            component=COMPONENT,
        )  # fmt: skip

    # --- sync operations ------------------------------------------------------------------
    async def _run_operation(self, name: str) -> None:
        try:
            await self._sync(name)
        finally:
            self.running.discard(name)

    async def _sync(self, name: str) -> None:
        app = self.store.get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        operation = app["operation"]
        tenant = self._tenant(app)
        revision = ((operation.get("sync") or {}).get("revision")) or self.head
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
        if revision == self.head:
            versions = self.desired
        else:
            loop = asyncio.get_running_loop()
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
            if tenant is not None and tenant in self.desired:
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
