"""The OpenAPI documents a real apiserver serves, as far as kubectl needs them.

`kubectl create -f` and `kubectl apply -f` validate by default (`--validate=strict`). kubectl
first asks the OpenAPI v3 index (`/openapi/v3`) for the object's group-version document and
looks for a PATCH operation tagged with the object's `x-kubernetes-group-version-kind` that
takes the `fieldValidation` query parameter (cli-runtime resource/query_param_verifier_v3.go).
When it is there, kubectl leaves validation to the server and sends `fieldValidation=Strict`;
when the documents cannot be fetched at all it refuses to go on ("failed to download openapi").
So each group-version document here has, per resource, the collection and item paths with
their operations, the `fieldValidation` parameter and an object schema per kind.

`/openapi/v2` is served too: JSON on request, otherwise the protobuf form client-go asks for
(gnostic's openapi_v2.Document), with the same paths and no schemas - kubectl only reads it as
a fallback and falls back further to its compiled-in types for strategic merge patches.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ncconsole.sim.apiserver.resources import Registry, ResourceType

Obj = dict[str, Any]
V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def gv_path(group: str, version: str) -> str:
    """The index key of a group-version: `api/v1` or `apis/<group>/<version>`."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _gvk(rt: ResourceType) -> Obj:
    return {"group": rt.group, "version": rt.version, "kind": rt.kind}


def _schema_name(rt: ResourceType) -> str:
    group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{group}.{rt.version}.{rt.kind}"


def _param(name: str, where: str = "query") -> Obj:
    return {"name": name, "in": where, "schema": {"type": "string", "uniqueItems": True}}


def _operation(rt: ResourceType, action: str, verb: str, body: bool, patch: bool = False) -> Obj:
    ref = {"$ref": f"#/components/schemas/{_schema_name(rt)}"}
    op: Obj = {
        "operationId": f"{verb}{rt.kind}",
        "parameters": [_param("dryRun"), _param("fieldManager")],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ref}}}
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rt),
    }
    if body:
        op["parameters"].append(_param("fieldValidation"))
        types = PATCH_TYPES if patch and rt.builtin else PATCH_TYPES[:2] if patch else ()
        content_types = types or ("application/json",)
        op["requestBody"] = {"content": {t: {"schema": ref} for t in content_types}}
    return op


def _paths(rt: ResourceType) -> dict[str, Obj]:
    prefix = f"/{gv_path(rt.group, rt.version)}"
    if rt.namespaced:
        collection = f"{prefix}/namespaces/{{namespace}}/{rt.plural}"
    else:
        collection = f"{prefix}/{rt.plural}"
    paths: dict[str, Obj] = {}
    verbs = set(rt.verbs)
    coll: Obj = {}
    if "list" in verbs:
        coll["get"] = _operation(rt, "list", "list", body=False)
    if "create" in verbs:
        coll["post"] = _operation(rt, "post", "create", body=True)
    if coll:
        paths[collection] = coll
    item: Obj = {}
    if "get" in verbs:
        item["get"] = _operation(rt, "get", "read", body=False)
    if "update" in verbs:
        item["put"] = _operation(rt, "put", "replace", body=True)
    if "patch" in verbs:
        item["patch"] = _operation(rt, "patch", "patch", body=True, patch=True)
    if "delete" in verbs:
        item["delete"] = _operation(rt, "delete", "delete", body=False)
    if item:
        paths[f"{collection}/{{name}}"] = item
    return paths


def _schema(rt: ResourceType) -> Obj:
    schema: Obj = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
        },
        "x-kubernetes-group-version-kind": [_gvk(rt)],
    }
    if not rt.builtin:  # a CRD's schema: the rest is the server's to check
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def v3_index(registry: Registry) -> Obj:
    """`/openapi/v3`: one entry per group-version, pointing at its document by hash."""
    paths = {}
    for group, version in _group_versions(registry):
        doc = v3_document(registry, group, version)
        digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128]
        paths[gv_path(group, version)] = {
            "serverRelativeURL": f"/openapi/v3/{gv_path(group, version)}?hash={digest.upper()}"
        }
    return {"paths": paths}


def _group_versions(registry: Registry) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for rt in registry.types:
        if (rt.group, rt.version) not in seen:
            seen.append((rt.group, rt.version))
    return seen


def v3_document(registry: Registry, group: str, version: str) -> Obj | None:
    """`/openapi/v3/<gv path>`: that group-version's paths and kinds; None if not served."""
    types = [rt for rt in registry.in_group_version(group, version) if rt.stored]
    extra = [rt for rt in registry.in_group_version(group, version) if not rt.stored]
    if not types and not extra:
        return None
    paths: dict[str, Obj] = {}
    for rt in types + extra:
        paths.update(_paths(rt))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.0"},
        "paths": paths,
        "components": {"schemas": {_schema_name(rt): _schema(rt) for rt in types + extra}},
    }


def v2_document(registry: Registry) -> Obj:
    """`/openapi/v2` as JSON: every path, no schemas."""
    paths: dict[str, Obj] = {}
    for rt in registry.types:
        for path, ops in _paths(rt).items():
            paths[path] = {
                method: {
                    "operationId": op["operationId"],
                    "x-kubernetes-action": op["x-kubernetes-action"],
                    "x-kubernetes-group-version-kind": op["x-kubernetes-group-version-kind"],
                    "responses": {"200": {"description": "OK"}},
                }
                for method, op in ops.items()
            }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.36.0"},
        "paths": paths,
        "definitions": {},
    }


def v2_protobuf() -> bytes:
    """The protobuf form of a minimal openapi_v2.Document (gnostic OpenAPIv2.proto): swagger
    (1) "2.0", info (2) {title (1), version (2)}, empty paths (8) and definitions (9). It tells
    kubectl no patch strategy, so it uses its compiled-in types."""
    info = _field(1, b"Kubernetes") + _field(2, b"v1.36.0")
    return _field(1, b"2.0") + _field(2, info) + _field(8, b"") + _field(9, b"")


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
