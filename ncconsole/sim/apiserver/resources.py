"""The resource kinds the simulated API server knows, as discovery describes them.

A `ResourceType` is the single description of one kind: where it lives in the URL space
(group, version, plural), whether it is namespaced, which verbs and subresources it has, and
whether it is built in (strategic merge patch allowed) or a custom resource (415 on it).
The store, the HTTP layer and the discovery documents all read these same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
# Built-in kinds whose registry strategy keeps metadata.generation (custom resources always do);
# Secrets, Services, Namespaces, Events, Leases and the like have none on a real apiserver.
GENERATION_KINDS = frozenset(
    {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}
)


@dataclass(frozen=True)
class Subresource:
    """A subresource such as `pods/log` or `deployments/status`."""

    name: str
    verbs: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class ResourceType:
    """One kind of object served by the API (e.g. pods in core/v1)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    builtin: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    # Kinds with a `status` subresource keep spec and status writes apart, like the real ones.
    name_is_label: bool = False  # DNS-1123 label (63 chars) instead of subdomain
    stored: bool = True  # False for virtual kinds such as SelfSubjectAccessReview
    singular: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def key(self) -> str:
        """Stable identifier, e.g. `pods` or `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_generation(self) -> bool:
        return not self.builtin or self.kind in GENERATION_KINDS

    @property
    def has_status_subresource(self) -> bool:
        return any(s.name == "status" for s in self.subresources)

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def __str__(self) -> str:
        return self.key


def _status(kind: str) -> Subresource:
    return Subresource("status", ("get", "patch", "update"), kind)


NAMESPACES = ResourceType(
    "", "v1", "Namespace", "namespaces", False, short_names=("ns",), name_is_label=True,
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    subresources=(_status("Namespace"),),
)  # fmt: skip
PODS = ResourceType(
    "", "v1", "Pod", "pods", True, short_names=("po",), categories=("all",),
    subresources=(
        _status("Pod"),
        Subresource("log", ("get",), "Pod"),
        Subresource("exec", ("create", "get"), "PodExecOptions"),
        Subresource("portforward", ("create", "get"), "PodPortForwardOptions"),
    ),
)  # fmt: skip
SECRETS = ResourceType("", "v1", "Secret", "secrets", True)
EVENTS = ResourceType("", "v1", "Event", "events", True, short_names=("ev",))
SERVICES = ResourceType(
    "", "v1", "Service", "services", True, short_names=("svc",), categories=("all",),
    name_is_label=True, subresources=(_status("Service"),),
)  # fmt: skip
DEPLOYMENTS = ResourceType(
    "apps", "v1", "Deployment", "deployments", True, short_names=("deploy",),
    categories=("all",),
    subresources=(_status("Deployment"), Subresource("scale", ("get", "patch", "update"), "Scale")),
)  # fmt: skip
LEASES = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)
APPLICATIONS = ResourceType(
    "argoproj.io", "v1alpha1", "Application", "applications", True, builtin=False,
    short_names=("app", "apps"), categories=("argoproj",),
)  # fmt: skip
APPLICATIONSETS = ResourceType(
    "argoproj.io", "v1alpha1", "ApplicationSet", "applicationsets", True, builtin=False,
    short_names=("appset", "appsets"), categories=("argoproj",),
)  # fmt: skip
APPPROJECTS = ResourceType(
    "argoproj.io", "v1alpha1", "AppProject", "appprojects", True, builtin=False,
    short_names=("appproj", "appprojs"), categories=("argoproj",),
)  # fmt: skip
EXTERNALSECRETS = ResourceType(
    "external-secrets.io", "v1", "ExternalSecret", "externalsecrets", True, builtin=False,
    short_names=("es",), categories=("external-secrets",),
    subresources=(_status("ExternalSecret"),),
)  # fmt: skip
CLUSTERSECRETSTORES = ResourceType(
    "external-secrets.io", "v1", "ClusterSecretStore", "clustersecretstores", False,
    builtin=False, short_names=("css",), categories=("external-secrets",),
    subresources=(_status("ClusterSecretStore"),),
)  # fmt: skip
CERTIFICATES = ResourceType(
    "cert-manager.io", "v1", "Certificate", "certificates", True, builtin=False,
    short_names=("cert", "certs"), categories=("cert-manager",),
    subresources=(_status("Certificate"),),
)  # fmt: skip
SELFSUBJECTACCESSREVIEWS = ResourceType(
    "authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
    False, verbs=("create",), stored=False,
)  # fmt: skip

ALL: tuple[ResourceType, ...] = (
    NAMESPACES, PODS, SECRETS, EVENTS, SERVICES, DEPLOYMENTS, LEASES, APPLICATIONS,
    APPLICATIONSETS, APPPROJECTS, EXTERNALSECRETS, CLUSTERSECRETSTORES, CERTIFICATES,
    SELFSUBJECTACCESSREVIEWS,
)  # fmt: skip


class Registry:
    """Looks resource types up by URL parts; lists group versions for discovery."""

    def __init__(self, types: tuple[ResourceType, ...] = ALL) -> None:
        self.types = types
        self._by_path = {(t.group, t.version, t.plural): t for t in types}

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def namespaced(self, group: str, plural: str) -> bool:
        """Whether `plural` in `group` (any version) lives in namespaces; unknown: True."""
        return next(
            (t.namespaced for t in self.types if (t.group, t.plural) == (group, plural)), True
        )

    def group_versions(self) -> dict[str, list[str]]:
        """Named groups (not core) and their versions, in registration order."""
        out: dict[str, list[str]] = {}
        for t in self.types:
            if t.group and t.version not in out.setdefault(t.group, []):
                out[t.group].append(t.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.types if t.group == group and t.version == version]


REGISTRY = Registry()
ESO_GROUP = "external-secrets.io"


def registry_serving_eso(versions: tuple[str, ...]) -> Registry:
    """The registry with External Secrets served at `versions` (in preference order): ESO
    serves v1 from 0.16.2, v1beta1 until 0.17 (external-secrets#4840). Objects are stored
    once whatever the version they are read at, as with a CRD's storage version."""
    if versions == ("v1",):
        return REGISTRY
    others = tuple(t for t in ALL if t.group != ESO_GROUP)
    eso = tuple(replace(t, version=v) for v in versions for t in ALL if t.group == ESO_GROUP)
    return Registry((*others, *eso))
