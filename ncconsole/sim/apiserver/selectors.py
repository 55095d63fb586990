"""Label and field selectors, parsed from their query-string form and matched against objects.

Label selectors support `=`, `==`, `!=`, `in (...)`, `notin (...)`, `key` (exists) and
`!key` (does not exist), comma-separated, as `kubectl -l` sends them. Field selectors support
`=`, `==` and `!=` on `metadata.name`, `metadata.namespace` and the fields each built-in kind
supports (`status.phase` of pods, `involvedObject.*`/`reason`/`type` of events, ...); other
fields are rejected with the real server's 400 message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ncconsole.sim.apiserver.errors import ApiError

_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_SET_REQ = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s+(in|notin)\s*\((.*)\)\s*$")
_CMP_REQ = re.compile(r"^\s*([^\s!=()]+)\s*(==|=|!=)\s*([^\s=!()]*)\s*$")
_EXISTS_REQ = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the label, as in Kubernetes.
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches(obj.get("metadata", {}).get("labels"))

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_clauses(text: str) -> list[str]:
    """Split on commas that are not inside an `in (...)` value list."""
    clauses, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            clauses.append(text[start:i])
            start = i + 1
    clauses.append(text[start:])
    return [c for c in clauses if c.strip()]


def _bad_selector(text: str, why: str) -> ApiError:
    return ApiError.bad_request(f"unable to parse requirement: {why} in selector {text!r}")


def _check_key(key: str, text: str) -> str:
    if not _LABEL_KEY.match(key):
        raise _bad_selector(text, f"invalid label key {key!r}")
    return key


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse `a=b,c!=d,e in (f,g),!h`; raise a 400 ApiError on malformed input."""
    if not text or not text.strip():
        return LabelSelector()
    reqs: list[Requirement] = []
    for clause in _split_clauses(text):
        if m := _SET_REQ.match(clause):
            if m.group(1):
                raise _bad_selector(text, "'!' cannot precede a set-based requirement")
            values = frozenset(v.strip() for v in m.group(4).split(",") if v.strip())
            reqs.append(Requirement(_check_key(m.group(2), text), m.group(3), values))
        elif m := _CMP_REQ.match(clause):
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append(Requirement(_check_key(m.group(1), text), op, frozenset([m.group(3)])))
        elif m := _EXISTS_REQ.match(clause):
            op = "!exists" if m.group(1) else "exists"
            reqs.append(Requirement(_check_key(m.group(2), text), op))
        else:
            raise _bad_selector(text, f"cannot parse {clause.strip()!r}")
    return LabelSelector(tuple(reqs))


def _field(path: str) -> Callable[[Mapping[str, Any]], str]:
    keys = path.split(".")

    def get(obj: Mapping[str, Any]) -> str:
        node: Any = obj
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        return "" if node is None else str(node)

    return get


COMMON_FIELDS = ("metadata.name", "metadata.namespace")
# The extra fields each built-in kind supports in field selectors, as in Kubernetes.
KIND_FIELDS = {
    "Pod": ("status.phase", "spec.nodeName", "spec.restartPolicy", "status.podIP"),
    "Event": ("involvedObject.kind", "involvedObject.name", "involvedObject.namespace",
              "involvedObject.uid", "involvedObject.apiVersion", "reason", "type",
              "source", "reportingComponent"),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
}  # fmt: skip
FIELD_GETTERS = {
    path: _field(path) for paths in (COMMON_FIELDS, *KIND_FIELDS.values()) for path in paths
}


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector over the few fields the simulator indexes."""

    terms: tuple[tuple[str, bool, str], ...] = ()  # (field, equal?, value)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((FIELD_GETTERS[f](obj) == v) == eq for f, eq, v in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms


def parse_field_selector(text: str | None, kind: str = "Pod") -> FieldSelector:
    """Parse `metadata.name=x,status.phase!=Running`; unknown fields get the real 400."""
    if not text or not text.strip():
        return FieldSelector()
    terms = []
    for clause in text.split(","):
        if not clause.strip():
            continue
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$", clause)
        if not m:
            raise ApiError.bad_request(f"invalid selector: '{text}'; can't understand '{clause}'")
        fld = m.group(1)
        if fld not in COMMON_FIELDS and fld not in KIND_FIELDS.get(kind, ()):
            raise ApiError.bad_request(f"field label not supported: {fld}")
        terms.append((fld, m.group(2) != "!=", m.group(3)))
    return FieldSelector(tuple(terms))
