"""Stored objects: their JSON form, timestamps, and the name rules the apiserver enforces."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ncconsole.sim.apiserver.errors import ApiError
from ncconsole.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    r"for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def now_iso() -> str:
    """The current time in the apiserver's timestamp format (`2026-01-02T03:04:05Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class Entry:
    """One stored object and its serialised form, computed once per version."""

    __slots__ = ("_item_raw", "_raw", "obj")

    def __init__(self, obj: Obj) -> None:
        self.obj = obj
        self._raw: bytes | None = None
        self._item_raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = dumps(self.obj)
        return self._raw

    @property
    def item_raw(self) -> bytes:
        """The form inside a built-in kind's list: without apiVersion and kind, as the real
        apiserver's typed lists serialise their items (custom resources keep both)."""
        if self._item_raw is None:
            self._item_raw = dumps(
                {k: v for k, v in self.obj.items() if k not in ("apiVersion", "kind")}
            )
        return self._item_raw


def validate_name(rt: ResourceType, name: str) -> None:
    """422 Invalid unless `name` is a DNS-1123 subdomain (or label, for some kinds)."""
    pattern, why, maxlen = (
        (_LABEL, _LABEL_MSG, 63) if rt.name_is_label else (_SUBDOMAIN, _SUBDOMAIN_MSG, 253)
    )
    if len(name) > maxlen:
        why = f"must be no more than {maxlen} characters"
    elif pattern.match(name):
        return
    raise ApiError.invalid(rt.kind, rt.group, name, [("metadata.name", name, why)])
