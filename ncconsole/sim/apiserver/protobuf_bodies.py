"""Reading the few request bodies kubectl sends as Kubernetes protobuf.

kubectl's typed clients post some built-in objects as `application/vnd.kubernetes.protobuf`
(the SelfSubjectAccessReview behind `kubectl auth can-i`, DeleteOptions, the Namespace
and Secret of `kubectl create ns|secret`). A real
apiserver reads protobuf for every built-in kind; the simulator decodes the envelope
(`k8s\\0` + runtime.Unknown) and the messages it needs into the same dicts as their JSON
form. Field numbers come from k8s.io/api's generated.proto files.
"""

from __future__ import annotations

import base64
from typing import Any

from ncconsole.sim.apiserver.errors import ApiError

MAGIC = b"k8s\x00"
Fields = dict[int, list[Any]]


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Fields:
    """Decode one message into {field number: [values]} (varints as int, the rest as bytes)."""
    out: Fields = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _str(f: Fields, n: int) -> str | None:
    return f[n][0].decode() if n in f else None


def _strings(f: Fields, names: dict[int, str]) -> dict[str, str]:
    return {name: v for n, name in names.items() if (v := _str(f, n)) is not None}


def _map(f: Fields, n: int) -> dict[str, bytes]:
    entries = [fields(e) for e in f.get(n, [])]
    return {e[1][0].decode(): e.get(2, [b""])[0] for e in entries if 1 in e}


def _object_meta(raw: bytes) -> dict[str, Any]:
    f = fields(raw)
    meta: dict[str, Any] = _strings(
        f, {1: "name", 2: "generateName", 3: "namespace", 6: "resourceVersion"}
    )
    for n, key in ((11, "labels"), (12, "annotations")):
        if n in f:
            meta[key] = {k: v.decode() for k, v in _map(f, n).items()}
    if 14 in f:
        meta["finalizers"] = [v.decode() for v in f[14]]
    return meta


def _namespace(raw: bytes) -> dict[str, Any]:
    f = fields(raw)
    return {"metadata": _object_meta(f.get(1, [b""])[0])}


def _secret(raw: bytes) -> dict[str, Any]:
    f = fields(raw)
    doc: dict[str, Any] = {"metadata": _object_meta(f.get(1, [b""])[0])}
    if 2 in f:
        doc["data"] = {k: base64.b64encode(v).decode() for k, v in _map(f, 2).items()}
    if 4 in f:
        doc["stringData"] = {k: v.decode() for k, v in _map(f, 4).items()}
    if (kind := _str(f, 3)) is not None:
        doc["type"] = kind
    return doc


def _access_review(raw: bytes) -> dict[str, Any]:
    spec_fields = fields(fields(raw).get(2, [b""])[0])
    spec: dict[str, Any] = {}
    if 1 in spec_fields:
        spec["resourceAttributes"] = _strings(
            fields(spec_fields[1][0]),
            {
                1: "namespace",
                2: "verb",
                3: "group",
                4: "version",
                5: "resource",
                6: "subresource",
                7: "name",
            },
        )
    if 2 in spec_fields:
        spec["nonResourceAttributes"] = _strings(fields(spec_fields[2][0]), {1: "path", 2: "verb"})
    return {"spec": spec}


def _delete_options(raw: bytes) -> dict[str, Any]:
    f = fields(raw)
    doc: dict[str, Any] = {}
    if 1 in f:
        doc["gracePeriodSeconds"] = f[1][0]
    if 2 in f:
        doc["preconditions"] = _strings(fields(f[2][0]), {1: "uid", 2: "resourceVersion"})
    if (policy := _str(f, 4)) is not None:
        doc["propagationPolicy"] = policy
    return doc


DECODERS = {
    "SelfSubjectAccessReview": _access_review,
    "DeleteOptions": _delete_options,
    "Namespace": _namespace,
    "Secret": _secret,
}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-equivalent dict of a protobuf request body; 415 for kinds we cannot read."""
    try:
        if not body.startswith(MAGIC):
            raise ValueError("missing k8s protobuf prefix")
        unknown = fields(body[len(MAGIC) :])
        type_meta = fields(unknown.get(1, [b""])[0])
        api_version, kind = _str(type_meta, 1) or "", _str(type_meta, 2) or ""
        decoder = DECODERS.get(kind)
        if decoder is None:
            raise ApiError.unsupported_media_type(
                "application/vnd.kubernetes.protobuf", ["application/json"]
            )
        doc = decoder(unknown.get(2, [b""])[0])
    except (ValueError, IndexError, UnicodeDecodeError) as err:
        raise ApiError.bad_request(f"cannot decode protobuf body: {err}") from None
    return {"apiVersion": api_version, "kind": kind, **doc}
