"""How Argo CD describes an Application's state: the `status.sync` block, the managed
resources list, and the health of a Deployment as its built-in health check reads it."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def is_multi_source(app: Obj) -> bool:
    """Argo CD treats an Application as multi-source when `spec.sources` is set
    (`ApplicationSpec.HasMultipleSources`); `spec.source` is then ignored."""
    return bool((app.get("spec") or {}).get("sources"))


def app_sources(app: Obj) -> list[Obj]:
    """The Application's sources in order: `spec.sources`, or `[spec.source]`."""
    spec = app.get("spec") or {}
    return list(spec.get("sources") or [spec.get("source") or {}])


def compared_revisions(app: Obj, head: str) -> list[str]:
    """One revision per source as Argo CD resolves it when comparing: a Helm chart's version
    as written, a Git source's branch or HEAD as the commit it points at (here: `head`)."""
    out = []
    for source in app_sources(app):
        wanted = str(source.get("targetRevision") or "HEAD")
        if source.get("chart"):
            out.append(wanted)
        else:
            out.append(head if wanted in ("HEAD", "main") else wanted)
    return out


def sync_block(app: Obj, status: str, revisions: list[str]) -> Obj:
    """`status.sync` as controller/state.go (CompareAppState) writes it: a multi-source
    Application gets only `revisions` (and `comparedTo.sources`), a single-source one only
    `revision` (and `comparedTo.source`). Go's encoding/json emits the empty
    `comparedTo.source` struct of a multi-source app as `{repoURL: ""}`."""
    spec = app["spec"]
    compared: Obj = {"destination": dict(spec.get("destination") or {})}
    block: Obj = {"status": status}
    if is_multi_source(app):
        compared["source"] = {"repoURL": ""}
        compared["sources"] = [dict(s) for s in spec["sources"]]
        block["revisions"] = list(revisions)
    else:
        compared["source"] = dict(spec.get("source") or {})
        block["revision"] = revisions[0] if revisions else ""
    block["comparedTo"] = compared
    return block


def sync_result(multi: bool, revisions: list[str], sources: list[Obj]) -> Obj:
    """`operationState.syncResult` without its resources, as controller/sync.go
    (SyncAppState) leaves it: `revisions` + `sources` for a multi-source sync, `revision` +
    `source` otherwise. `revision` has no omitempty in SyncOperationResult, so a
    multi-source result carries `revision: ""`."""
    if multi:
        return {
            "revision": "",
            "source": {"repoURL": ""},
            "sources": [dict(s) for s in sources],
            "revisions": list(revisions),
        }
    return {"revision": revisions[0] if revisions else "", "source": dict(sources[0])}


def history_entry(
    multi: bool, revisions: list[str], sources: list[Obj], entry_id: int, started: str,
    finished: str, initiated_by: Obj,
) -> Obj:  # fmt: skip
    """One `status.history[]` entry as controller/state.go (persistRevisionHistory) writes
    it: `revisions` + `sources` for a multi-source sync (no `revision`), else `revision` +
    `source`."""
    entry: Obj = {"id": entry_id, "deployStartedAt": started, "deployedAt": finished}
    if multi:
        entry.update(
            source={"repoURL": ""}, sources=[dict(s) for s in sources], revisions=list(revisions)
        )
    else:
        entry.update(revision=revisions[0] if revisions else "", source=dict(sources[0]))
    entry["initiatedBy"] = dict(initiated_by)
    return entry


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
