"""Argo CD's sync operations: what happens between an `operation` written onto an
Application and its `operationState` ending Succeeded, Failed or Error.

A mixin of `ArgoCdController`, which owns the state it reads (store, head, desired and
deployed versions) and the health reconciler it queues.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncconsole.sim.apiserver.resources import APPLICATIONS, DEPLOYMENTS, NAMESPACES, SERVICES
from ncconsole.sim.apiserver.store import Store, now_iso
from ncconsole.sim.controllers.argocd_status import (
    app_sources,
    compared_revisions,
    deployment_health,
    history_entry,
    is_multi_source,
    managed_resources,
    sync_block,
    sync_result,
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
TERMINATING = "Terminating"
# gitops-engine sync_context Terminate(): the phase goes Failed with this message, no retry.
TERMINATED = "Operation terminated"


def resolve_revision(repo: Path, revision: str) -> str | None:
    """The commit sha `revision` (a sha, short sha, branch or HEAD) names, or None."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


@dataclass(frozen=True)
class SyncTarget:
    """What a sync operation asks for, one revision per source (as requested, or resolved)."""

    multi: bool
    wanted: list[str]
    sources: list[Obj]

    def _position(self, git: bool) -> int | None:
        found = [i for i, s in enumerate(self.sources) if bool(s.get("chart")) != git]
        if git:  # the values repo (`ref: values`), else the last Git source
            refs = [i for i in found if self.sources[i].get("ref")]
            found = refs or found
        return found[-1] if found else None

    @property
    def git_positions(self) -> list[int]:
        return [i for i, s in enumerate(self.sources) if not s.get("chart")]

    @property
    def values_position(self) -> int | None:
        return self._position(git=True)

    @property
    def chart_position(self) -> int | None:
        return self._position(git=False)


def requested_target(app: Obj, sync: Obj) -> SyncTarget:
    """The revisions a sync operation asks for, as controller/sync.go (SyncAppState) reads
    them: `sync.sources`/`sync.source` (a rollback) replace the spec's sources; a
    multi-source sync takes `sync.revisions` only (`sync.revision` is ignored), position by
    position, an empty or missing one meaning that source's own targetRevision; a
    single-source sync takes `sync.revision`."""
    if sync.get("sources"):
        multi, sources = True, list(sync["sources"])
    elif sync.get("source"):
        multi, sources = False, [sync["source"]]
    else:
        multi, sources = is_multi_source(app), app_sources(app)
    if multi:
        given = [str(r or "") for r in sync.get("revisions") or []]
    else:
        given = [str(sync.get("revision") or "")]
    wanted = [
        (given[i] if i < len(given) and given[i] else "")
        or str(source.get("targetRevision") or "HEAD")
        for i, source in enumerate(sources)
    ]
    return SyncTarget(multi, wanted, sources)


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
        target = requested_target(app, operation.get("sync") or {})
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
        shown = ", ".join(r for r in target.wanted if r) or "HEAD"
        who = "automated sync" if automated else f"{user} initiated sync"
        message = f"Initiated {who} to {shown}" if automated else f"{who} to {shown}"
        self.events.record(app, "OperationStarted", message, component=COMPONENT)
        await asyncio.sleep(self.state.timings.sync)
        if self._terminating(name):
            self._finish(name, "Failed", TERMINATED)
            return
        current = self.store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, name) or app
        for condition in (current.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ComparisonError":  # nothing to apply
                self._finish(name, "Error", f"ComparisonError: {condition.get('message', '')}")
                return
        loop = asyncio.get_running_loop()
        resolved = list(target.wanted)
        for i in target.git_positions:
            sha = await loop.run_in_executor(
                None, resolve_revision, self.state.repo, target.wanted[i]
            )
            if sha is None:
                self._finish(
                    name, "Error",
                    "rpc error: code = Unknown desc = unable to resolve "
                    f"'{target.wanted[i]}' to a commit SHA",
                )  # fmt: skip
                return
            resolved[i] = sha
        commit = resolved[target.values_position] if target.values_position is not None else ""
        if commit == self.head:
            versions = self.desired
        elif commit:
            versions = await loop.run_in_executor(None, desired_versions, self.state.repo, commit)
        else:
            versions = {}
        if tenant is None or tenant not in versions:
            self._finish(name, "Error", f"tenant of {name} is not in revision {commit[:12]}")
            return
        version = versions[tenant]
        if target.chart_position is not None:  # the chart comes from its own source
            version = DesiredVersion(resolved[target.chart_position], version.image_tag)
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
            if self._terminating(name):
                self._finish(name, "Failed", TERMINATED)
                return
        if tenant in self.state.sync_fails:
            namespace = app["spec"]["destination"]["namespace"]
            rejected = {
                "group": "apps", "version": "v1", "kind": "Deployment", "namespace": namespace,
                "name": "nextcloud", "status": "SyncFailed", "syncPhase": "Sync",
                "message": failure.split("reason: ", 1)[-1],
            }  # fmt: skip
            self._finish(
                name, "Failed", failure, SyncTarget(target.multi, resolved, target.sources),
                resources=[rejected],
            )  # fmt: skip
            return
        self._apply(tenant, version)
        self.deployed[tenant] = version
        self._finish(
            name, "Succeeded", "successfully synced (all tasks run)",
            SyncTarget(target.multi, resolved, target.sources), version,
        )  # fmt: skip

    def _terminating(self, name: str) -> bool:
        """Whether someone asked to stop the running operation (`argocd app terminate-op`
        sets operationState.phase to Terminating; the controller then ends it Failed)."""
        app = self.store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, name) or {}
        return ((app.get("status") or {}).get("operationState") or {}).get("phase") == TERMINATING

    def _retrying(self, name: str, attempt: int, failure: str) -> None:
        stamp = now_iso()

        def mutate(obj: Obj) -> None:
            op_state = obj.setdefault("status", {}).setdefault("operationState", {})
            if op_state.get("phase") == TERMINATING:
                return  # the terminate wins; the next check ends the operation
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
        done: SyncTarget | None = None,
        version: DesiredVersion | None = None,
        resources: list[Obj] | None = None,
    ) -> None:
        finished = now_iso()
        app_now = self.store.get(APPLICATIONS, ARGOCD_NAMESPACE, name)
        tenant = self._tenant(app_now)

        def mutate(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            op_state = dict(st.get("operationState") or {})
            op_state.update(phase=phase, message=message, finishedAt=finished)
            if done is not None and version is not None:
                op_state["syncResult"] = {
                    **sync_result(done.multi, done.wanted, done.sources),
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
                    history_entry(
                        done.multi, done.wanted, done.sources,
                        max((h.get("id", 0) for h in history), default=-1) + 1,
                        op_state.get("startedAt", finished), finished,
                        (op_state.get("operation") or {}).get("initiatedBy", {}),
                    )
                )  # fmt: skip
                del history[:-10]  # Argo CD's default revisionHistoryLimit
            elif done is not None and resources:  # what failed to apply, and why
                op_state["syncResult"] = {
                    **sync_result(done.multi, done.wanted, done.sources),
                    "resources": resources,
                }
            st["operationState"] = op_state
            obj.pop("operation", None)
            conditions = [c for c in st.get("conditions") or [] if c.get("type") != "SyncError"]
            shown = ", ".join(done.wanted) if done is not None else self.head
            if phase != "Succeeded":
                conditions.append(
                    {"type": "SyncError", "lastTransitionTime": finished,
                     "message": f"Failed sync attempt to {shown}: {message}"}
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
                st["sync"] = sync_block(obj, synced, compared_revisions(obj, self.head))
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
        shown = ", ".join(done.wanted) if done is not None else ""
        text = f"Sync operation to {shown} succeeded" if ok else f"Sync operation failed: {message}"
        self.events.record(
            app, "OperationCompleted", text, type_="Normal" if ok else "Warning",
            component=COMPONENT,
        )  # fmt: skip
        self._health.queue((ARGOCD_NAMESPACE, name))
