"""One script of API interactions, run the same way against the simulator and a real apiserver.

The script is what the console, the official client and kubectl send: get, list with selectors
and pagination, watch from a resourceVersion and from a too-old one, create (201/409/422), merge
and JSON patch with preconditions, strategic merge on a CRD (415), server-side apply, dry run,
delete with preconditions, RBAC refusals for each user, Events, Leases, an Application against
its CRD schema, SelfSubjectAccessReview and Table output. Each answer is reduced to an
`Observation` - status code, Status reason and cause fields, the keys present in objects and
lists, Table columns, watch event types - so that two servers can be compared without
comparing names, uids or times. Messages are kept beside it for the report, not compared.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

Ctx = dict[str, Any]
Value = Any  # a value, or a function of the context giving it
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@dataclass(frozen=True)
class Target:
    """A server and a bearer token for each user (admin, viewer, engineer)."""

    name: str
    server: str
    ca_file: Path
    tokens: dict[str, str]

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.server,
            verify=ssl.create_default_context(cafile=str(self.ca_file)),
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=30,
        )


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: Value
    user: str = "admin"
    query: Value = None
    body: Value = None
    content_type: str = "application/json"
    accept: str = "application/json"
    watch: bool = False
    # Keys of these sub-objects are observed too, e.g. ("spec",) to see CRD pruning.
    inner: tuple[str, ...] = ()
    # Values at these dotted paths are observed too, e.g. "status.allowed".
    values: tuple[str, ...] = ()
    # False for housekeeping (e.g. removing what a refused-on-one-side create made), so that
    # one difference does not cascade into the steps after it.
    compare: bool = True
    save: Callable[[Ctx, Any], None] | None = None


@dataclass(frozen=True)
class Observation:
    status: int
    reason: str = ""
    kind: str = ""
    keys: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()
    items: int | None = None
    item_keys: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    inner: tuple[tuple[str, tuple[str, ...]], ...] = ()
    values: tuple[tuple[str, Any], ...] = ()
    message: str = field(default="", compare=False)

    def differences(self, other: Observation) -> list[str]:
        """The aspects in which `other` differs, e.g. ["status 201 != 422", ...]."""
        found = []
        for aspect in (
            "status", "reason", "kind", "keys", "meta", "items", "item_keys", "causes",
            "columns", "events", "inner", "values",
        ):  # fmt: skip
            mine, theirs = getattr(self, aspect), getattr(other, aspect)
            if mine != theirs:
                found.append(f"{aspect}: {mine!r} != {theirs!r}")
        return found


def _resolve(value: Value, ctx: Ctx) -> Any:
    return value(ctx) if callable(value) else value


def _keys(obj: Any) -> tuple[str, ...]:
    return tuple(sorted(obj)) if isinstance(obj, dict) else ()


def _at(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def observe_body(
    status: int, body: Any, inner: tuple[str, ...] = (), values: tuple[str, ...] = ()
) -> Observation:
    if not isinstance(body, dict):
        return Observation(status, message=str(body)[:200])
    kind = str(body.get("kind") or "")
    if kind == "Status":
        details = body.get("details") or {}
        causes = tuple(sorted(str(c.get("field", "")) for c in details.get("causes") or ()))
        return Observation(
            status,
            reason=str(body.get("reason") or body.get("status") or ""),
            kind=kind,
            keys=_keys(body),
            causes=causes,
            message=str(body.get("message") or ""),
        )
    if kind == "Table":
        columns = tuple(str(c.get("name")) for c in body.get("columnDefinitions") or ())
        rows = body.get("rows") or []
        return Observation(
            status,
            kind=kind,
            keys=_keys(body),
            items=len(rows),
            item_keys=_keys(rows[0]) if rows else (),
            columns=columns,
        )
    meta = _keys(body.get("metadata"))
    if isinstance(body.get("items"), list):
        items = body["items"]
        first = items[0] if items else {}
        return Observation(
            status,
            kind=kind,
            keys=_keys(body),
            meta=meta,
            items=len(items),
            item_keys=_keys(first) + tuple(f"metadata.{k}" for k in _keys(first.get("metadata"))),
        )
    inner_keys = tuple((name, _keys(body.get(name))) for name in inner)
    picked = tuple((path, _at(body, path)) for path in values)
    return Observation(
        status, kind=kind, keys=_keys(body), meta=meta, inner=inner_keys, values=picked
    )


def _watch(client: httpx.Client, path: str, query: dict[str, Any]) -> Observation:
    events: list[str] = []
    with client.stream("GET", path, params=query) as stream:
        status = stream.status_code
        if status != 200:
            stream.read()
            return observe_body(status, _json(stream.content))
        for line in stream.iter_lines():
            if not line:
                continue
            event = json.loads(line)
            kind = event.get("type", "")
            if kind == "BOOKMARK":  # timing-dependent on both sides
                continue
            obj = event.get("object") or {}
            if kind == "ERROR":
                events.append(f"ERROR {obj.get('code')} {obj.get('reason')}")
                continue
            events.append(f"{kind} {obj.get('metadata', {}).get('name', '')}")
    return Observation(status, kind="watch", events=tuple(events))


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")


def run_script(target: Target, steps: list[Step], ctx: Ctx) -> dict[str, Observation]:
    """Every step in order against `target`; its observations by step name."""
    clients = {user: target.client(user) for user in target.tokens}
    seen: dict[str, Observation] = {}
    try:
        for step in steps:
            client = clients[step.user]
            if not step.compare:
                client.request(step.method, _resolve(step.path, ctx))
                continue
            path = _resolve(step.path, ctx)
            query = {k: v for k, v in (_resolve(step.query, ctx) or {}).items() if v is not None}
            if step.watch:
                seen[step.name] = _watch(client, path, query)
                continue
            body = _resolve(step.body, ctx)
            headers = {"Accept": step.accept}
            content = None
            if body is not None:
                headers["Content-Type"] = step.content_type
                content = body if isinstance(body, str) else json.dumps(body)
            answer = client.request(
                step.method, path, params=query, content=content, headers=headers
            )
            parsed = _json(answer.content)
            seen[step.name] = observe_body(answer.status_code, parsed, step.inner, step.values)
            if step.save is not None and 200 <= answer.status_code < 300:
                step.save(ctx, parsed)
    finally:
        for client in clients.values():
            client.close()
    return seen


# -- the script --------------------------------------------------------------------------------


def lease(name: str, labels: dict[str, str] | None = None, seconds: int = 30) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, **({"labels": labels} if labels else {})},
        "spec": {"holderIdentity": "diff@test", "leaseDurationSeconds": seconds},
    }


def application(name: str, **spec_changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": "https://git.example.com/platform.git", "path": "x"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "nc-x"},
    }
    for key, value in spec_changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "labels": {"diff": "yes"}},
        "spec": spec,
    }


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "nextcloud"}},
        "spec": {"containers": [{"name": "nextcloud", "image": "nextcloud:30.0.6-apache"}]},
    }


def event(name: str, namespace: str, involved_namespace: str | None) -> dict[str, Any]:
    involved = {"kind": "Namespace", "name": namespace, "apiVersion": "v1"}
    if involved_namespace is not None:
        involved["namespace"] = involved_namespace
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": involved,
        "reason": "DiffTest",
        "message": "differential test",
        "type": "Normal",
        "source": {"component": "ncconsole"},
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "count": 1,
    }


def steps(ns: str, run: str) -> list[Step]:
    """The script, in namespace `ns` (made by the caller, with the engineer's RoleBinding on a
    real cluster); `run` makes cluster-wide names unique per run."""
    leases = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
    apps = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
    app = f"diff-{run}"
    events = f"/api/v1/namespaces/{ns}/events"
    secrets = f"/api/v1/namespaces/{ns}/secrets"
    diff = {"app": f"diff-{run}"}  # unique per run: a reused cluster keeps older runs' objects

    def keep(key: str, path: tuple[str, ...]) -> Callable[[Ctx, Any], None]:
        def save(ctx: Ctx, body: Any) -> None:
            value = body
            for part in path:
                value = value[part]
            ctx[key] = value

        return save

    sar = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": ns, "verb": "create", "resource": "pods", "subresource": "exec",
            }
        },
    }  # fmt: skip
    return [
        # create: 201, 409, 422
        Step("create lease a", "POST", leases, body=lease("a", diff | {"tier": "a"}),
             save=keep("rv_a", ("metadata", "resourceVersion"))),
        Step("create lease b", "POST", leases, body=lease("b", diff | {"tier": "b"})),
        Step("create lease c", "POST", leases, body=lease("c", {"app": "other"}),
             save=keep("rv_start", ("metadata", "resourceVersion"))),
        Step("create existing lease", "POST", leases, body=lease("a")),
        Step("create lease with invalid name", "POST", leases, body=lease("Bad_Name")),
        Step("create lease with zero duration", "POST", leases, body=lease("z", seconds=0)),
        Step("cleanup: lease z", "DELETE", f"{leases}/z", compare=False),
        Step("create lease in body namespace mismatch", "POST", leases,
             body=lease("m") | {"metadata": {"name": "m", "namespace": "default"}}),
        Step("cleanup: lease m", "DELETE", f"{leases}/m", compare=False),
        # get
        Step("get lease", "GET", f"{leases}/a", inner=("spec",)),
        Step("get missing lease", "GET", f"{leases}/nope"),
        # list: selectors, pagination
        Step("list by label", "GET", leases, query={"labelSelector": f"app=diff-{run}"}),
        Step("list by set-based label", "GET", leases,
             query={"labelSelector": f"tier in (a,b),app=diff-{run}"}),
        Step("list by label, none match", "GET", leases, query={"labelSelector": "app=none"}),
        Step("list with malformed label selector", "GET", leases,
             query={"labelSelector": "app in ("}),
        Step("list by metadata.name", "GET", leases, query={"fieldSelector": "metadata.name=a"}),
        Step("list by unsupported field", "GET", leases,
             query={"fieldSelector": "spec.holderIdentity=x"}),
        Step("list first page", "GET", leases, query={"limit": "2"},
             save=keep("continue", ("metadata", "continue"))),
        Step("list next page", "GET", leases,
             query=lambda c: {"limit": "2", "continue": c.get("continue")}),
        Step("list first page with a selector", "GET", leases,
             query={"limit": "1", "labelSelector": f"app=diff-{run}"}),
        Step("list with garbage continue", "GET", leases, query={"continue": "garbage"}),
        Step("list with resourceVersionMatch alone", "GET", leases,
             query={"resourceVersionMatch": "NotOlderThan"}),
        Step("list cluster-wide", "GET", "/apis/coordination.k8s.io/v1/leases",
             query={"labelSelector": f"app=diff-{run}"}),
        # patch: merge and JSON patch, preconditions
        Step("merge patch with stale resourceVersion", "PATCH", f"{leases}/a",
             body={"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": "x"}},
             content_type="application/merge-patch+json"),
        Step("merge patch", "PATCH", f"{leases}/a", body={"spec": {"holderIdentity": "h1"}},
             content_type="application/merge-patch+json"),
        Step("json patch with failing test", "PATCH", f"{leases}/a",
             body=[{"op": "test", "path": "/spec/holderIdentity", "value": "nope"}],
             content_type="application/json-patch+json"),
        Step("json patch", "PATCH", f"{leases}/a",
             body=[{"op": "replace", "path": "/spec/holderIdentity", "value": "h2"}],
             content_type="application/json-patch+json", values=("spec.holderIdentity",)),
        Step("strategic merge patch on a built-in", "PATCH", f"{leases}/a",
             body={"spec": {"holderIdentity": "h3"}},
             content_type="application/strategic-merge-patch+json"),
        Step("patch of a missing object", "PATCH", f"{leases}/nope", body={"spec": {}},
             content_type="application/merge-patch+json"),
        Step("put with stale resourceVersion", "PUT", f"{leases}/a",
             body=lambda c: lease("a") | {"metadata": {"name": "a", "resourceVersion": c["rv_a"]}}),
        # dry run
        Step("dry-run create", "POST", leases, query={"dryRun": "All"}, body=lease("d")),
        Step("get after dry-run create", "GET", f"{leases}/d"),
        Step("dry-run delete", "DELETE", f"{leases}/c", query={"dryRun": "All"}),
        # delete
        Step("delete with wrong uid precondition", "DELETE", f"{leases}/c",
             body={"kind": "DeleteOptions", "apiVersion": "v1",
                   "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}),
        Step("delete", "DELETE", f"{leases}/b"),
        Step("get deleted", "GET", f"{leases}/b"),
        Step("delete missing", "DELETE", f"{leases}/b"),
        # watch
        Step("watch from a resourceVersion", "GET", leases, watch=True,
             query=lambda c: {"watch": "true", "resourceVersion": c["rv_start"],
                              "labelSelector": f"app=diff-{run}", "timeoutSeconds": "2"}),
        Step("watch without resourceVersion", "GET", leases, watch=True,
             query={"watch": "true", "labelSelector": f"app=diff-{run}", "timeoutSeconds": "1"}),
        Step("watch from a too-old resourceVersion", "GET", leases, watch=True,
             query={"watch": "true", "resourceVersion": "1", "timeoutSeconds": "2"}),
        Step("server-side apply", "PATCH", f"{leases}/a",
             query={"fieldManager": "diff", "force": "true"},
             body=json.dumps(lease("a", diff | {"tier": "a"}) | {"spec": {"holderIdentity": "h4"}}),
             content_type="application/apply-patch+yaml"),
        # Events
        Step("event about a namespace without involvedObject.namespace", "POST", events,
             body=event("ev-bare", ns, None)),
        Step("event about a namespace with involvedObject.namespace", "POST", events,
             body=event("ev-ok", ns, ns)),
        Step("event in another namespace than involvedObject's", "POST", events,
             body=event("ev-other", ns, "default")),
        Step("cleanup: event ev-bare", "DELETE", f"{events}/ev-bare", compare=False),
        Step("cleanup: event ev-other", "DELETE", f"{events}/ev-other", compare=False),
        Step("list events by involvedObject.name", "GET", events,
             query={"fieldSelector": f"involvedObject.name={ns}"}),
        Step("list events by reason", "GET", events, query={"fieldSelector": "reason=DiffTest"}),
        # Applications against the CRD
        Step("create application", "POST", apps, body=application(app), inner=("spec",)),
        Step("create application without project", "POST", apps,
             body=application(f"{app}-np", project=None)),
        Step("create application without destination", "POST", apps,
             body=application(f"{app}-nd", destination=None)),
        Step("create application without source", "POST", apps,
             body=application(f"{app}-ns", source=None)),
        Step("create application with an unknown spec field", "POST", apps,
             body=application(f"{app}-uf", bogus="x"), inner=("spec",)),
        Step("cleanup: application np", "DELETE", f"{apps}/{app}-np", compare=False),
        Step("cleanup: application nd", "DELETE", f"{apps}/{app}-nd", compare=False),
        Step("cleanup: application ns", "DELETE", f"{apps}/{app}-ns", compare=False),
        Step("strategic merge patch on an application", "PATCH", f"{apps}/{app}",
             body={"metadata": {"labels": {"x": "y"}}},
             content_type="application/strategic-merge-patch+json"),
        Step("merge patch of an application operation", "PATCH", f"{apps}/{app}",
             body={"operation": {"sync": {"revisions": ["6.6.9", "HEAD"]},
                                 "initiatedBy": {"username": "diff"}}},
             content_type="application/merge-patch+json", inner=("operation",)),
        Step("application status subresource", "GET", f"{apps}/{app}/status"),
        Step("applications as a Table", "GET", apps, accept=TABLE,
             query={"labelSelector": "diff=yes"}),
        Step("leases as a Table", "GET", leases, accept=TABLE),
        Step("namespaces as a Table", "GET", f"/api/v1/namespaces/{ns}", accept=TABLE),
        # RBAC, per user
        Step("viewer lists leases", "GET", leases, user="viewer"),
        Step("viewer lists deployments", "GET", f"/apis/apps/v1/namespaces/{ns}/deployments",
             user="viewer"),
        Step("viewer creates a lease", "POST", leases, user="viewer", body=lease("v")),
        Step("cleanup: lease v", "DELETE", f"{leases}/v", compare=False),
        Step("viewer lists secrets in a namespace", "GET", secrets, user="viewer"),
        Step("viewer lists secrets cluster-wide", "GET", "/api/v1/secrets", user="viewer"),
        Step("viewer lists pods cluster-wide", "GET", "/api/v1/pods", user="viewer",
             query={"labelSelector": "app=none"}),
        Step("viewer patches an application", "PATCH", f"{apps}/{app}", user="viewer",
             body={"metadata": {"labels": {"v": "1"}}},
             content_type="application/merge-patch+json"),
        Step("engineer lists pods cluster-wide", "GET", "/api/v1/pods", user="engineer"),
        Step("engineer lists deployments cluster-wide", "GET", "/apis/apps/v1/deployments",
             user="engineer"),
        Step("engineer lists events cluster-wide", "GET", "/api/v1/events", user="engineer"),
        Step("engineer lists secrets cluster-wide", "GET", "/api/v1/secrets", user="engineer"),
        Step("engineer lists leases in the tenant namespace", "GET", leases, user="engineer"),
        Step("engineer creates a secret in the tenant namespace", "POST", secrets,
             user="engineer",
             body={"metadata": {"name": "eng"}, "type": "Opaque", "stringData": {"k": "v"}}),
        Step("engineer lists secrets in kube-system", "GET",
             "/api/v1/namespaces/kube-system/secrets", user="engineer"),
        Step("engineer gets the tenant namespace", "GET", f"/api/v1/namespaces/{ns}",
             user="engineer"),
        Step("engineer reviews pods/exec access", "POST",
             "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", user="engineer",
             body=sar),
        Step("viewer reviews pods/exec access", "POST",
             "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", user="viewer",
             body=sar),
        # pods: logs and exec (a plain GET, as a client without a WebSocket would send it)
        Step("create pod", "POST", f"/api/v1/namespaces/{ns}/pods", body=pod("web"),
             inner=("spec",)),
        Step("pod log of a missing container", "GET", f"/api/v1/namespaces/{ns}/pods/web/log",
             query={"container": "nope"}),
        Step("log of a missing pod", "GET", f"/api/v1/namespaces/{ns}/pods/nope/log"),
        Step("exec without a WebSocket upgrade", "GET", f"/api/v1/namespaces/{ns}/pods/web/exec",
             query={"command": "true", "container": "nextcloud", "stdout": "true"}),
        Step("viewer execs", "GET", f"/api/v1/namespaces/{ns}/pods/web/exec", user="viewer",
             query={"command": "true", "container": "nextcloud", "stdout": "true"}),
        Step("delete pod", "DELETE", f"/api/v1/namespaces/{ns}/pods/web"),
        # cleanup inside the script, so that both sides end the same
        Step("delete application", "DELETE", f"{apps}/{app}"),
        Step("delete application with unknown field", "DELETE", f"{apps}/{app}-uf"),
    ]  # fmt: skip
