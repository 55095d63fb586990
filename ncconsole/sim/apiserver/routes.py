"""The Kubernetes API over HTTP: aiohttp routes on top of the `Store`.

`ApiServer(store, auth, ...)` builds an `aiohttp.web.Application` (`.app`) that answers
discovery, get/list/watch/create/update/patch/delete(+collection), the `status`, `log`,
`exec` and `portforward` subresources and SelfSubjectAccessReviews, with the real apiserver's
status codes and Status bodies. Its knobs can be changed while it runs (from the loop thread):
- `faults`: a `Faults` (latency per request or per namespace, watches dropped after N s);
- `exec_handler`: an `ExecHandler` (see exec_ws) running `kubectl exec` commands;
- `port_resolver`: a `PortResolver` (see portforward_ws): where a pod's port really goes;
- `logs.source`: a `LogSource` (see pod_logs) saying what containers write, for pods/log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ncconsole.sim.apiserver import discovery, openapi, tables
from ncconsole.sim.apiserver.auth import Auth, User
from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.exec_ws import (
    ExecHandler,
    command_not_found,
    serve_exec,
)
from ncconsole.sim.apiserver.patching import json_patch, merge_patch, strategic_merge_patch
from ncconsole.sim.apiserver.pod_logs import LogSource, PodLogs
from ncconsole.sim.apiserver.portforward_ws import (
    PortResolver,
    nothing_listens,
    serve_portforward,
)
from ncconsole.sim.apiserver.resources import NAMESPACES, PODS, REGISTRY, Registry, ResourceType
from ncconsole.sim.apiserver.selectors import parse_field_selector, parse_label_selector
from ncconsole.sim.apiserver.store import Store, WatchEvent, dumps
from ncconsole.sim.apiserver.strategies import (
    keep_status_rules,
    prepare_for_create,
    read_body,
    scale_of,
)
from ncconsole.sim.apiserver.validation import validate
from ncconsole.sim.apiserver.watch_stream import WatchParams, serve_watch

log = logging.getLogger(__name__)
PUBLIC_PATHS = {"/version", "/healthz", "/livez", "/readyz"}
PATCHES = {
    "application/merge-patch+json": merge_patch,
    "application/json-patch+json": json_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
}


@dataclass
class Faults:
    """Server-wide misbehaviour a scenario can switch on."""

    latency: float = 0.0  # seconds added to every request
    namespace_latency: dict[str, float] = field(default_factory=dict)  # extra, per namespace
    drop_watches_after: float | None = None  # seconds after which every watch stream ends
    # "namespace/name" -> how many more writes to that object find it just rewritten by
    # another writer (as Argo CD's controller rewrites an Application's status all the
    # time), so a resourceVersion precondition read before fails with the real 409.
    concurrent_writes: dict[str, int] = field(default_factory=dict)


@dataclass
class Target:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def _json(body: Any, status: int = 200) -> web.Response:
    raw = body if isinstance(body, bytes) else dumps(body)
    return web.Response(body=raw, status=status, content_type="application/json")


def _strict(request: web.Request) -> bool:
    """`fieldValidation=Strict` (kubectl's default): unknown fields are an error."""
    return request.query.get("fieldValidation") == "Strict"


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


class ApiServer:
    """HTTP front of a Store. See the module docstring."""

    def __init__(
        self,
        store: Store,
        auth: Auth,
        *,
        registry: Registry = REGISTRY,
        faults: Faults | None = None,
        exec_handler: ExecHandler | None = None,
        log_source: LogSource | None = None,
        bookmark_interval: float = 30.0,
        max_watch_timeout: float = 1800.0,
    ) -> None:
        self.store, self.auth, self.registry = store, auth, registry
        auth.namespaced = registry.namespaced
        self.faults = faults or Faults()
        self.exec_handler: ExecHandler = exec_handler or command_not_found
        self.logs = PodLogs(store, log_source)
        self.port_resolver: PortResolver = nothing_listens
        self.bookmark_interval = bookmark_interval
        self.max_watch_timeout = max_watch_timeout
        self.version_info = dict(discovery.DEFAULT_VERSION)
        self.server_address = "127.0.0.1:0"
        self.app = web.Application(client_max_size=16 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            user = None
            if not (
                request.path.rstrip("/") in PUBLIC_PATHS and "Authorization" not in request.headers
            ):
                user = self.auth.authenticate(request.headers.get("Authorization"))
            return await self._route(request, user)
        except ApiError as err:
            return _json(err.status(), err.code)
        except json.JSONDecodeError as err:
            return _json(ApiError.bad_request(f"invalid JSON in request body: {err}").status(), 400)
        except ValueError as err:  # a malformed query parameter such as limit=abc
            return _json(ApiError.bad_request(str(err)).status(), 400)
        except Exception as err:  # a simulator bug: answer like the apiserver, keep serving
            log.exception("internal error serving %s %s", request.method, request.path)
            message = f'an error on the server ("{err}") has prevented the request from succeeding'
            return _json(ApiError(500, "InternalError", message).status(), 500)

    async def _route(self, request: web.Request, user: User | None) -> web.StreamResponse:
        segs = [s for s in request.path.split("/") if s]
        path = request.path.rstrip("/")
        if path in PUBLIC_PATHS:
            return _json(self.version_info) if path == "/version" else web.Response(text="ok")
        assert user is not None
        if segs and segs[0] == "openapi":
            return self._openapi(request, segs[1:])
        if segs == ["api"]:
            return _json(discovery.api_versions(self.server_address))
        if segs == ["apis"]:
            return _json(discovery.api_group_list(self.registry))
        if segs and segs[0] == "api" and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs and segs[0] == "apis" and len(segs) >= 2:
            if len(segs) == 2:
                doc = discovery.api_group(self.registry, segs[1])
                return _json(doc) if doc else _json(ApiError.path_not_found().status(), 404)
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            raise ApiError.path_not_found()
        if not rest:
            doc = discovery.api_resource_list(self.registry, group, version)
            return _json(doc) if doc else _json(ApiError.path_not_found().status(), 404)
        target = self._target(group, version, rest)
        delay = self.faults.latency + self.faults.namespace_latency.get(target.namespace or "", 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        return await self._dispatch(request, user, target)

    def _openapi(self, request: web.Request, rest: list[str]) -> web.Response:
        """/openapi/v2 (protobuf unless JSON is asked for) and /openapi/v3[/<gv path>]."""
        if rest == ["v2"]:
            if "application/json" in request.headers.get("Accept", ""):
                return _json(openapi.v2_document(self.registry))
            return web.Response(body=openapi.v2_protobuf(), content_type=openapi.V2_PROTOBUF)
        if rest == ["v3"]:
            return _json(openapi.v3_index(self.registry))
        if len(rest) in (3, 4) and rest[0] == "v3" and rest[1] in ("api", "apis"):
            group, version = ("", rest[2]) if rest[1] == "api" else (rest[2], rest[-1])
            if (rest[1] == "api") == (len(rest) == 3):
                doc = openapi.v3_document(self.registry, group, version)
                if doc is not None:
                    return _json(doc)
        raise ApiError.path_not_found()

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            inner = self.registry.lookup(group, version, rest[2])
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        rt = self.registry.lookup(group, version, rest[0])
        if rt is None or len(rest) > 3 or (rt.namespaced and namespace is None and len(rest) > 1):
            raise ApiError.path_not_found()
        sub = rest[2] if len(rest) == 3 else None
        if sub is not None and rt.subresource(sub) is None:
            if not rt.builtin:  # a custom resource names the object, as the real server does
                raise ApiError.not_found(rt.plural, rt.group, rest[1])
            raise ApiError.path_not_found()
        return Target(rt, namespace, rest[1] if len(rest) >= 2 else None, sub)

    async def _dispatch(self, request: web.Request, user: User, t: Target) -> web.StreamResponse:
        m, q = request.method, request.query
        if t.name is None:
            verb = {
                "GET": "watch" if _truthy(q.get("watch")) else "list",
                "POST": "create",
                "DELETE": "deletecollection",
            }.get(m)
        elif t.subresource in ("exec", "portforward"):
            # A websocket upgrade is a GET, authorized as `get pods/exec` up to Kubernetes
            # 1.34; from 1.35 (AuthorizePodWebsocketUpgradeCreatePermission, kubernetes#134577)
            # it also needs `create`. The simulator serves 1.36: both are checked.
            verb = "create" if m in ("GET", "POST") else None
            if m == "GET":
                self.auth.check(
                    user, "get", f"pods/{t.subresource}", "", t.namespace or "", t.name or ""
                )
        else:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(m)
        sub = t.rt.subresource(t.subresource) if t.subresource else None
        if verb is None or verb not in (sub.verbs if sub else t.rt.verbs):
            raise ApiError.method_not_allowed()
        resource = t.rt.plural + (f"/{t.subresource}" if t.subresource else "")
        authz_ns = t.name if t.rt is NAMESPACES and t.name else t.namespace or ""
        self.auth.check(user, verb, resource, t.rt.group, authz_ns, t.name or "")
        if t.rt.plural == "selfsubjectaccessreviews":
            body = await read_body(request)
            return _json({**body, "status": self.auth.review(user, body.get("spec") or {})}, 201)
        if verb in ("list", "watch", "deletecollection"):
            return await self._collection(request, t, verb)
        if verb == "create":
            if t.subresource == "exec":
                pod = self.store.get(PODS, t.namespace, t.name or "")
                return await serve_exec(request, t.namespace or "", pod, self.exec_handler)
            if t.subresource == "portforward":
                pod = self.store.get(PODS, t.namespace, t.name or "")
                return await serve_portforward(request, t.namespace or "", pod, self.port_resolver)
            return await self._create(request, t)
        if t.subresource == "log":
            return await self.logs.serve(request, t.namespace or "", t.name or "")
        if t.subresource == "scale":
            return await self._scale(request, t, verb)
        name = t.name or ""
        if verb == "get":
            entry = self.store.get_entry(t.rt, t.namespace, name)
            if "as=Table" in request.headers.get("Accept", ""):  # kubectl get KIND NAME
                meta = {"resourceVersion": entry.obj["metadata"]["resourceVersion"]}
                include = q.get("includeObject", "Metadata")
                return _json(tables.table(t.rt, [entry.obj], meta, include))
            return _json(entry.raw)
        dry_run = q.get("dryRun") == "All"
        if verb == "delete":
            return await self._delete(request, t, dry_run)
        body = await read_body(request)
        strict = _strict(request)
        if verb == "update":
            return _json(self._update(t, body, dry_run, strict))
        return _json(self._patch(request.content_type, t, body, dry_run, strict))

    # --- collections ----------------------------------------------------------------------
    async def _collection(self, request: web.Request, t: Target, verb: str) -> web.StreamResponse:
        q = request.query
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), t.rt.kind)
        as_table = "as=Table" in request.headers.get("Accept", "")
        if verb == "watch":
            timeout = float(q.get("timeoutSeconds") or self.max_watch_timeout)
            params = WatchParams(
                t.namespace,
                q.get("resourceVersion", ""),
                labels,
                fields,
                min(timeout, self.max_watch_timeout),
                _truthy(q.get("allowWatchBookmarks")),
                _truthy(q.get("sendInitialEvents")),
                self.faults.drop_watches_after,
                self.bookmark_interval,
            )
            encode = self._table_event_encoder(t.rt, q) if as_table else None
            return await serve_watch(request, self.store, t.rt, params, encode)
        if verb == "deletecollection":
            dry_run = q.get("dryRun") == "All"
            page = self.store.list_page(t.rt, t.namespace, labels, fields)
            names = [
                (e.obj["metadata"].get("namespace"), e.obj["metadata"]["name"])
                for e in page.entries
            ]
            items = [self.store.delete(t.rt, ns, n, dry_run=dry_run) for ns, n in names]
            return _json(
                {
                    "kind": f"{t.rt.kind}List",
                    "apiVersion": t.rt.api_version,
                    "metadata": {"resourceVersion": str(self.store.resource_version)},
                    "items": items,
                }
            )
        if q.get("resourceVersionMatch") and not q.get("resourceVersion"):
            # A list only (a watch-list may send it with sendInitialEvents): ValidateListOptions
            raise ApiError.forbidden_list_option(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            )
        limit = int(q.get("limit") or 0)
        page = self.store.list_page(t.rt, t.namespace, labels, fields, limit, q.get("continue", ""))
        meta: dict[str, Any] = {"resourceVersion": str(page.resource_version)}
        if page.continue_token:
            meta["continue"] = page.continue_token
            # With a selector the server cannot know how many more match: no count.
            if not q.get("labelSelector") and not q.get("fieldSelector"):
                meta["remainingItemCount"] = page.remaining
        if as_table:
            objs = [e.obj for e in page.entries]
            return _json(tables.table(t.rt, objs, meta, q.get("includeObject", "Metadata")))
        head = dumps({"kind": f"{t.rt.kind}List", "apiVersion": t.rt.api_version, "metadata": meta})
        items = (e.item_raw if t.rt.builtin else e.raw for e in page.entries)
        body = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        return _json(body)

    def _table_event_encoder(self, rt: ResourceType, q: Any) -> Callable[[WatchEvent], bytes]:
        include = q.get("includeObject", "Metadata")

        def encode(ev: WatchEvent) -> bytes:
            meta = {"resourceVersion": ev.obj["metadata"].get("resourceVersion", "")}
            obj = tables.table(rt, [ev.obj], meta, include)
            return dumps({"type": ev.type, "object": obj}) + b"\n"

        return encode

    # --- single objects -------------------------------------------------------------------
    async def _create(self, request: web.Request, t: Target) -> web.Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be a JSON object")
        meta = body.setdefault("metadata", {})
        if t.rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != t.namespace:
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = t.namespace
        prepare_for_create(t.rt, body)
        body = validate(t.rt, body, strict=_strict(request))
        dry_run = request.query.get("dryRun") == "All"
        return _json(self.store.create(t.rt, body, dry_run=dry_run), 201)

    def _update(self, t: Target, body: Any, dry_run: bool, strict: bool = False) -> dict:
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be a JSON object")
        name = t.name or ""
        given = (body.get("metadata") or {}).get("name")
        if given != name:
            raise ApiError.bad_request(
                f"the name of the object ({given}) does not match the name on the URL ({name})"
            )
        want_rv = (body.get("metadata") or {}).get("resourceVersion")

        def mutate(current: dict) -> dict:
            if want_rv and want_rv != current["metadata"]["resourceVersion"]:
                raise ApiError.conflict(t.rt.plural, t.rt.group, name)
            kept = keep_status_rules(t.rt, t.subresource, current, body)
            return validate(t.rt, kept, strict=strict)

        return self.store.update(t.rt, t.namespace, name, mutate, dry_run=dry_run)

    def _concurrent_write(self, t: Target) -> None:
        """The `concurrent_writes` fault: another writer touches the object first."""
        key = f"{t.namespace or ''}/{t.name or ''}"
        if self.faults.concurrent_writes.get(key, 0) <= 0:
            return
        self.faults.concurrent_writes[key] -= 1

        def touch(obj: dict) -> None:  # a status write, as Argo CD's `observedAt` (µs: new)
            obj.setdefault("status", {})["observedAt"] = datetime.now(UTC).isoformat()

        self.store.update(t.rt, t.namespace, t.name or "", touch)

    def _patch(
        self, content_type: str, t: Target, body: Any, dry_run: bool, strict: bool = False
    ) -> dict:
        self._concurrent_write(t)
        accepted = list(PATCHES) if t.rt.builtin else list(PATCHES)[:2]
        if content_type not in accepted:
            raise ApiError.unsupported_media_type(
                content_type, [*accepted[:2], "application/apply-patch+yaml", *accepted[2:]]
            )
        apply = PATCHES[content_type]
        name = t.name or ""

        def mutate(current: dict) -> dict:
            rv = current["metadata"]["resourceVersion"]
            patched = apply(current, body)
            if not isinstance(patched, dict):
                raise ApiError.bad_request("the patch must produce a JSON object")
            wanted = (patched.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != rv:
                raise ApiError.conflict(t.rt.plural, t.rt.group, name)
            kept = keep_status_rules(t.rt, t.subresource, current, patched)
            return validate(t.rt, kept, strict=strict)

        return self.store.update(t.rt, t.namespace, name, mutate, dry_run=dry_run)

    async def _delete(self, request: web.Request, t: Target, dry_run: bool) -> web.Response:
        name = t.name or ""
        current = self.store.get_entry(t.rt, t.namespace, name).obj
        if request.can_read_body:
            options = await read_body(request)
            pre = (options or {}).get("preconditions") or {}
            if pre.get("resourceVersion") not in (
                None,
                current["metadata"]["resourceVersion"],
            ) or pre.get("uid") not in (None, current["metadata"]["uid"]):
                raise ApiError.conflict(t.rt.plural, t.rt.group, name)
        gone = self.store.delete(t.rt, t.namespace, name, dry_run=dry_run)
        still_there = gone["metadata"].get("deletionTimestamp") and not dry_run
        if t.rt.kind in ("Pod", "Namespace") or still_there:
            return _json(gone)  # graceful deletions answer with the object, as in Kubernetes
        details = {
            "name": name,
            "group": t.rt.group,
            "kind": t.rt.plural,
            "uid": gone["metadata"]["uid"],
        }
        return _json(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }
        )

    async def _scale(self, request: web.Request, t: Target, verb: str) -> web.Response:
        """deployments/scale: an autoscaling/v1 Scale view of spec.replicas."""
        name = t.name or ""
        if verb != "get":
            body = await read_body(request)
            current = scale_of(self.store.get(t.rt, t.namespace, name))
            if verb == "update":
                wanted = body
            elif request.content_type in PATCHES:
                wanted = PATCHES[request.content_type](current, body)
            else:
                raise ApiError.unsupported_media_type(request.content_type, list(PATCHES))
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError.invalid(
                    "Scale",
                    "autoscaling",
                    name,
                    [("spec.replicas", str(replicas), "must be greater than or equal to 0")],
                )

            def set_replicas(o: dict) -> None:
                o.setdefault("spec", {})["replicas"] = replicas

            dry_run = request.query.get("dryRun") == "All"
            self.store.update(t.rt, t.namespace, name, set_replicas, dry_run=dry_run)
        return _json(scale_of(self.store.get(t.rt, t.namespace, name)))
