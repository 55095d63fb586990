"""Simulated Argo CD: Applications follow the platform repo's HEAD and run sync operations.

- Like a repo server, it polls HEAD every `timings.repo_poll` seconds (a cheap read of .git);
  a new commit that changes a tenant's chart version or image tag gives that Application the
  new chart `targetRevision` and makes it OutOfSync; every Application's `sync.revisions`
  (multi-source: the chart version and the values commit) or `sync.revision` (single-source)
  say what it was compared with, as controller/state.go writes them.
- An `operation` written onto an Application runs: operationState Running, then after
  `timings.sync` seconds Succeeded (the tenant's Deployment gets the new image and rolls) or
  Failed (the sync-fails fault); `.operation` is removed, history appended, `reconciledAt` set.
- Health follows the tenant Deployment as Argo CD's health check reads it: Progressing while
  it rolls, Healthy when done, Degraded when its progress deadline is exceeded.
- The refresh annotation makes it compare with HEAD at once; the annotation is then removed.
- Tenant files added to or removed from the repo are reported to `on_tenants_changed` (the
  ApplicationSet's git generator); a deleted Application's resources finalizer removes the
  tenant's Deployment and Service before the Application goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ncconsole.sim.apiserver.resources import APPLICATIONS, APPLICATIONSETS, DEPLOYMENTS, SERVICES
from ncconsole.sim.apiserver.store import Store, WatchEvent, now_iso
from ncconsole.sim.controllers.appset_generator import parse_errors, tenant_specs
from ncconsole.sim.controllers.argocd_status import (
    compared_revisions,
    deployment_health,
    managed_resources,
    sync_block,
)
from ncconsole.sim.controllers.argocd_sync import COMPONENT, SyncOperations
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.state import (
    APPLICATIONSET,
    ARGOCD_NAMESPACE,
    PlatformState,
    Reconciler,
)
from ncconsole.sim.platform_repo.repo import (
    DesiredVersion,
    PlatformRepoError,
    desired_versions,
    head_revision,
)
from ncconsole.sim.scenario import TenantSpec

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REFRESH = "argocd.argoproj.io/refresh"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
# (added tenant specs, removed tenant names), called in the loop thread
TenantsChanged = Callable[[list[TenantSpec], list[str]], None]


def _reads(error: str, tenant: str | None) -> bool:
    """Whether the Application of `tenant` reads the file `error` is about: every tenant reads
    the common and environment values, each its own tenant file."""
    path = error.split(":", 1)[0]
    if not path.startswith("values/tenants/"):
        return True
    return tenant is not None and path.rsplit("/", 1)[-1] in (
        f"tenant-{tenant}.yaml",
        f"tenant-{tenant}.yml",
    )


class ArgoCdController(SyncOperations):
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
        self._compare_lock = asyncio.Lock()
        self._refreshing: set[str] = set()

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
            except Exception as err:  # a broken commit must not stop Argo CD for good
                # One line; the commit is compared again at the next poll.
                log.error(
                    "comparing with the platform repo failed: %s: %s", type(err).__name__, err
                )
                log.debug("comparing with the platform repo failed", exc_info=True)

    async def compare_with_head(self) -> None:
        async with self._compare_lock:  # the poller and refreshes must not interleave
            await self._compare_with_head()

    async def _compare_with_head(self) -> None:
        head = head_revision(self.state.repo)
        if head == self.head:
            return
        loop = asyncio.get_running_loop()
        repo = self.state.repo
        try:
            desired = await loop.run_in_executor(None, desired_versions, repo, head)
            errors = await loop.run_in_executor(None, parse_errors, repo, head)
        except PlatformRepoError as err:
            desired, errors = dict(self.desired), [str(err)]
        previous = (self.head, self.desired)
        try:
            await self._follow(head, desired, errors)
        except BaseException:
            # Not compared after all: the next poll tries this commit again instead of
            # taking it as seen (a commit must never go unnoticed).
            self.head, self.desired = previous
            raise

    async def _follow(self, head: str, desired: dict, errors: list[str]) -> None:
        loop = asyncio.get_running_loop()
        repo = self.state.repo
        self.head = head
        if errors:  # what still renders keeps its last good target
            complete = {t: v for t, v in desired.items() if v.chart_version and v.image_tag}
            desired = {**self.desired, **complete}
        self.desired = desired
        known = {
            (e.obj["metadata"].get("labels") or {}).get("tenant", "")
            for e in self.store.list_page(APPLICATIONS, ARGOCD_NAMESPACE).entries
        }
        self._generator_error(errors)
        if not errors and set(desired) != known and self.on_tenants_changed is not None:
            # The ApplicationSet's git generator: tenant files added or removed.
            domain = self.state.scenario.domain
            specs = await loop.run_in_executor(None, tenant_specs, repo, head, domain)
            added = [specs[name] for name in sorted(set(desired) - known) if name in specs]
            self.on_tenants_changed(added, sorted(known - set(desired) - {""}))
        for app in self.store.list(APPLICATIONS, ARGOCD_NAMESPACE):
            tenant = self._tenant(app)
            broken = [e for e in errors if _reads(e, tenant)]
            if broken:
                self._comparison_error(app, broken[0])
            else:
                self._compare(app)

    def _generator_error(self, errors: list[str]) -> None:
        """A values file that does not parse stops the ApplicationSet's generator: it keeps
        the Applications it has and says why on its own status."""

        def mutate(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            kept = [c for c in st.get("conditions") or [] if c.get("type") != "ErrorOccurred"]
            if errors:
                kept.append(
                    {"type": "ErrorOccurred", "status": "True",
                     "reason": "ApplicationGenerationFromParamsError",
                     "message": errors[0], "lastTransitionTime": now_iso()}
                )  # fmt: skip
            st["conditions"] = kept

        if self.store.try_get(APPLICATIONSETS, ARGOCD_NAMESPACE, APPLICATIONSET) is not None:
            self.store.update(APPLICATIONSETS, ARGOCD_NAMESPACE, APPLICATIONSET, mutate)

    def _comparison_error(self, app: Obj, error: str) -> None:
        """Argo CD cannot render the manifests: sync Unknown with a ComparisonError."""
        message = (
            "Failed to load target state: failed to generate manifest for source 1 of 2: "
            f"rpc error: code = Unknown desc = `helm template` failed: Error: {error}"
        )

        def mutate(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["sync"] = sync_block(obj, "Unknown", compared_revisions(obj, self.head))
            st["conditions"] = [
                c for c in st.get("conditions") or [] if c.get("type") != "ComparisonError"
            ] + [{"type": "ComparisonError", "message": message, "lastTransitionTime": now_iso()}]
            st["reconciledAt"] = now_iso()

        self.store.update(APPLICATIONS, ARGOCD_NAMESPACE, app["metadata"]["name"], mutate)

    def _compare(self, app: Obj) -> None:
        tenant = self._tenant(app)
        if tenant is None or tenant not in self.desired:
            return
        desired = self.desired[tenant]
        status = "Synced" if self.deployed.get(tenant) == desired else "OutOfSync"
        namespace = app["spec"]["destination"]["namespace"]
        before = ((app.get("status") or {}).get("sync") or {}).get("status")

        def mutate(obj: Obj) -> None:
            for source in obj["spec"].get("sources") or []:
                if source.get("chart"):  # the ApplicationSet template's chart version
                    source["targetRevision"] = desired.chart_version
            st = obj.setdefault("status", {})
            st["sync"] = sync_block(obj, status, compared_revisions(obj, self.head))
            st["resources"] = managed_resources(namespace, status)
            conditions = [
                c for c in st.get("conditions") or [] if c.get("type") != "ComparisonError"
            ]
            if conditions:
                st["conditions"] = conditions
            else:
                st.pop("conditions", None)
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
        if REFRESH in (app["metadata"].get("annotations") or {}) and name not in self._refreshing:
            self._refreshing.add(name)
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
        try:
            await self._do_refresh(name)
        finally:
            self._refreshing.discard(name)

    async def _do_refresh(self, name: str) -> None:
        await asyncio.sleep(min(0.2, self.state.timings.repo_poll))
        try:
            await self.compare_with_head()
        except Exception:  # the annotation still goes, as Argo CD records the error instead
            log.exception("refresh of %s could not read the platform repo", name)
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
        old = (app.get("status") or {}).get("health") or {}
        before = old.get("status")
        if (before, old.get("message", "")) == (health, message):
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
        if before != health:
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
