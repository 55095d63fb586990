"""What the real apiserver checks in a written object before storing it, for the kinds where a
client can get it wrong: core/v1 Events, Argo CD Applications and Leases.

- Events: `legacyValidateEvent` of kubernetes pkg/apis/core/validation/events.go, which every
  core/v1 Event passes on create and update - above all, an Event without `eventTime` must
  name its involved object's namespace, and it must equal the Event's own (an Event about a
  cluster-scoped object lives in `default`).
- Applications: the structural schema of argo-cd manifests/crds/application-crd.yaml -
  `spec.destination` and `spec.project` required, `repoURL` required in every source - and
  the pruning of unknown fields such a schema implies (e.g. `operation.sync.sourcePositions`,
  an Argo CD API field the CRD does not have).

- Leases: `spec.leaseDurationSeconds` > 0 and `spec.leaseTransitions` >= 0
  (pkg/apis/coordination/validation/validation.go ValidateLeaseSpec).

Failures are the apiserver's 422 Invalid Status with one cause per field, worded as
k8s.io/apimachinery's field.Error does.
"""

from __future__ import annotations

import re
from typing import Any

from ncconsole.sim.apiserver.errors import ApiError, FieldError
from ncconsole.sim.apiserver.resources import APPLICATIONS, EVENTS, ResourceType

Obj = dict[str, Any]
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LIMIT = 128
_NOTE_LIMIT = 1024


def validate(rt: ResourceType, obj: Obj, *, strict: bool = False) -> Obj:
    """The object as it would be stored (pruned), or ApiError 422. With `strict`
    (`fieldValidation=Strict`, what kubectl sends) an unknown field is a 400 instead."""
    if rt is EVENTS:
        _raise(rt, obj, event_errors(obj))
    elif rt is APPLICATIONS:
        dropped: list[str] = []
        obj = _prune(obj, "", dropped)
        if strict and dropped:
            unknown = ", ".join(f'unknown field "{d}"' for d in dropped)
            raise ApiError.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {unknown}"
            )
        _raise(rt, obj, application_errors(obj))
    elif rt.kind == "Lease" and rt.group == "coordination.k8s.io":
        _raise(rt, obj, lease_errors(obj))
    return obj


def lease_errors(lease: Obj) -> list[FieldError]:
    """ValidateLeaseSpec: the two numbers a client sets."""
    spec = lease.get("spec") or {}
    errors: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errors.append(
            FieldError.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        )
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errors.append(
            FieldError.invalid(
                "spec.leaseTransitions", transitions, "must be greater than or equal to 0"
            )
        )
    return errors


def _raise(rt: ResourceType, obj: Obj, errors: list[FieldError]) -> None:
    if errors:
        name = (obj.get("metadata") or {}).get("name", "")
        raise ApiError.invalid_fields(rt.kind, rt.group, name, errors)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def event_errors(event: Obj) -> list[FieldError]:
    """legacyValidateEvent, field by field."""
    errors: list[FieldError] = []
    namespace = _str((event.get("metadata") or {}).get("namespace"))
    involved_ns = _str((event.get("involvedObject") or {}).get("namespace"))
    mismatch = FieldError.invalid(
        "involvedObject.namespace", involved_ns, "does not match event.namespace"
    )
    if not event.get("eventTime"):
        # A legacy Event: its namespace and the involved object's must agree.
        if not involved_ns:
            if namespace not in ("", "default"):
                errors.append(mismatch)
        elif namespace != involved_ns:
            errors.append(mismatch)
    else:
        if not involved_ns and namespace not in ("default", "kube-system"):
            errors.append(mismatch)
        controller = _str(event.get("reportingComponent") or event.get("reportingController"))
        if not controller:
            errors.append(FieldError.required("reportingController"))
        elif not _QUALIFIED_NAME.match(controller.rsplit("/", 1)[-1]):
            errors.append(
                FieldError.invalid(
                    "reportingController", controller,
                    "name part must consist of alphanumeric characters, '-', '_' or '.', and "
                    "must start and end with an alphanumeric character",
                )
            )  # fmt: skip
        for path, value, limit in (
            ("reportingInstance", _str(event.get("reportingInstance")), _LIMIT),
            ("action", _str(event.get("action")), _LIMIT),
            ("reason", _str(event.get("reason")), _LIMIT),
        ):
            if not value:
                errors.append(FieldError.required(path))
            elif len(value) > limit:
                errors.append(FieldError.invalid(path, "", f"can have at most {limit} characters"))
        if len(_str(event.get("message"))) > _NOTE_LIMIT:
            errors.append(
                FieldError.invalid("message", "", f"can have at most {_NOTE_LIMIT} characters")
            )
    if namespace and not _DNS1123_SUBDOMAIN.match(namespace):
        errors.append(
            FieldError.invalid(
                "namespace", namespace,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        )  # fmt: skip
    return errors


def application_errors(app: Obj) -> list[FieldError]:
    """The `required` lists of the Application CRD's openAPIV3Schema."""
    spec = app.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec")]
    errors = [
        FieldError.required(f"spec.{key}") for key in ("destination", "project") if key not in spec
    ]
    if isinstance(spec.get("source"), dict) and "repoURL" not in spec["source"]:
        errors.append(FieldError.required("spec.source.repoURL"))
    for i, source in enumerate(spec.get("sources") or []):
        if isinstance(source, dict) and "repoURL" not in source:
            errors.append(FieldError.required(f"spec.sources[{i}].repoURL"))
    for i, item in enumerate((app.get("operation") or {}).get("info") or []):
        for key in ("name", "value"):
            if isinstance(item, dict) and key not in item:
                errors.append(FieldError.required(f"operation.info[{i}].{key}"))
    return errors


# The fields of the Application schema at the levels clients write, for pruning; deeper
# levels (helm, kustomize, status, ...) are kept as given.
_SOURCE = frozenset(
    {
        "chart",
        "directory",
        "helm",
        "kustomize",
        "name",
        "path",
        "plugin",
        "ref",
        "repoURL",
        "targetRevision",
    }
)
_SCHEMA: dict[str, Any] = {
    "": frozenset({"apiVersion", "kind", "metadata", "spec", "status", "operation"}),
    "spec": frozenset({
        "destination", "ignoreDifferences", "info", "project", "revisionHistoryLimit",
        "source", "sourceHydrator", "sources", "syncPolicy",
    }),
    "spec.destination": frozenset({"name", "namespace", "server"}),
    "spec.source": _SOURCE,
    "spec.sources[]": _SOURCE,
    "spec.syncPolicy": frozenset({"automated", "managedNamespaceMetadata", "retry", "syncOptions"}),
    "spec.syncPolicy.automated": frozenset({"allowEmpty", "enabled", "prune", "selfHeal"}),
    "operation": frozenset({"info", "initiatedBy", "retry", "sync"}),
    "operation.initiatedBy": frozenset({"automated", "username"}),
    "operation.retry": frozenset({"backoff", "limit", "refresh"}),
    "operation.sync": frozenset({
        "autoHealAttemptsCount", "dryRun", "manifests", "prune", "resources", "revision",
        "revisions", "source", "sources", "syncOptions", "syncStrategy",
    }),
    "operation.sync.source": _SOURCE,
    "operation.sync.sources[]": _SOURCE,
}  # fmt: skip


def prune_application(app: Obj) -> Obj:
    """Drop the fields the structural schema does not know (a copy)."""
    return _prune(app, "", [])


def _prune(value: Any, path: str, dropped: list[str], shown: str = "") -> Any:
    """`value` without unknown fields; their paths (as the apiserver names them) go to
    `dropped`."""
    if isinstance(value, list):
        return [_prune(v, f"{path}[]", dropped, f"{shown}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    known = _SCHEMA.get(path)
    out = {}
    for key, item in value.items():
        child, child_shown = (f"{path}.{key}", f"{shown}.{key}") if path else (key, key)
        if known is not None and key not in known:
            dropped.append(child_shown)
            continue
        out[key] = _prune(item, child, dropped, child_shown) if _covers(child) else item
    return out


def _covers(path: str) -> bool:
    """Whether any pruned level lies at or below `path`."""
    return any(p == path or p.startswith(path + ".") or p.startswith(path + "[]") for p in _SCHEMA)
