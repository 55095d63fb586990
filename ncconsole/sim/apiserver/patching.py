"""The three patch formats of PATCH requests: JSON merge patch, JSON patch, strategic merge.

- `merge_patch` is RFC 7386 (`application/merge-patch+json`): maps merge, null deletes,
  lists replace.
- `json_patch` is RFC 6902 (`application/json-patch+json`): add/remove/replace/move/copy/test.
- `strategic_merge_patch` (`application/strategic-merge-patch+json`, built-in kinds only)
  merges well-known lists by their merge key (containers/env/volumes by `name`, ports by
  `containerPort` or `port`, volumeMounts by `mountPath`, conditions by `type`) and honours
  `$patch: delete|replace` directives; other lists replace, as with a merge patch.
All functions return a new document and never modify their inputs. Bad patches raise a
400/422 ApiError with a message shaped like the apiserver's.
"""

from __future__ import annotations

import copy
from typing import Any

from ncconsole.sim.apiserver.errors import ApiError

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 ---------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError.bad_request(f"invalid JSON pointer {path!r}: must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list, token: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit():
        raise ApiError(422, "Invalid", f"invalid array index {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not for_add):
        raise ApiError(422, "Invalid", f"array index {i} out of bounds")
    return i


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for tok in tokens[:-1]:
        try:
            node = node[_index(node, tok, for_add=False)] if isinstance(node, list) else node[tok]
        except (KeyError, TypeError):
            raise ApiError(422, "Invalid", f"doc is missing path: {path!r}") from None
    return node


def _get(doc: Any, path: str) -> Any:
    node = doc
    for tok in _pointer(path):
        try:
            node = node[_index(node, tok, for_add=False)] if isinstance(node, list) else node[tok]
        except (KeyError, TypeError):
            raise ApiError(422, "Invalid", f"doc is missing path: {path!r}") from None
    return node


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise ApiError(422, "Invalid", "cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    try:
        if isinstance(parent, list):
            return parent.pop(_index(parent, tokens[-1], for_add=False))
        return parent.pop(tokens[-1])
    except (KeyError, TypeError, AttributeError):
        raise ApiError(422, "Invalid", f"doc is missing path: {path!r}") from None


def _add(doc: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    if isinstance(parent, list):
        i = _index(parent, tokens[-1], for_add=not replace)
        if replace:
            parent[i] = value
        else:
            parent.insert(i, value)
    elif isinstance(parent, dict):
        if replace and tokens[-1] not in parent:
            raise ApiError(
                422, "Invalid", f"replace operation does not apply: doc is missing key: {path}"
            )
        parent[tokens[-1]] = value
    else:
        raise ApiError(422, "Invalid", f"doc is missing path: {path!r}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch (a list of operations)."""
    if not isinstance(operations, list):
        raise ApiError.bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError.bad_request(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise ApiError.bad_request(f"missing value for {kind} operation on {path}")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind in ("move", "copy"):
            value = (
                _remove(doc, op["from"]) if kind == "move" else copy.deepcopy(_get(doc, op["from"]))
            )
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise ApiError.rejected_patch()
        else:
            raise ApiError.bad_request(f"Unexpected kind: {kind}")
    return doc


# --- strategic merge patch --------------------------------------------------------------------
def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_list(field: str, current: Any, patch: list) -> list:
    key = _merge_key(field, patch)
    if key is None or not isinstance(current, list):
        return [
            _strip_directives(v) for v in patch if not (isinstance(v, dict) and v.get("$patch"))
        ]
    if any(isinstance(v, dict) and v.get("$patch") == "replace" for v in patch):
        return [_strip_directives(v) for v in patch if not (isinstance(v, dict) and "$patch" in v)]
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise ApiError.bad_request(f"map: {item!r} does not contain declared merge key: {key}")
        pos = next(
            (i for i, c in enumerate(result) if isinstance(c, dict) and c.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if pos is not None:
                result.pop(pos)
        elif pos is None:
            result.append(_strip_directives(item))
        else:
            result[pos] = strategic_merge_patch(result[pos], item)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch (the subset built-in kinds need, see module docstring)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # $setElementOrder, $retainKeys, ...: ordering hints we need not honour
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = value
    return result
