"""Who is calling and what they may do: bearer tokens, roles, bindings and deny rules.

`Auth` is the simulator's authenticator and authorizer in one, modelled on Kubernetes RBAC
(pkg/registry/rbac/validation/rule.go VisitRulesFor, plugin/pkg/auth/authorizer/rbac/
bootstrappolicy/policy.go):
- a user's role is `cluster-admin` (everything) or, for a read-only user, the built-in `view`
  role: get/list/watch on non-escalating resources only - no Secrets, no pods/exec - plus
  the platform's aggregated read access to Argo CD and External Secrets objects;
- a user is bound either cluster-wide (a ClusterRoleBinding) or only in some namespaces
  (RoleBindings, `namespaces`; glob patterns stand for "every matching namespace"). A request
  at the cluster scope - e.g. listing pods across all namespaces - consults only
  ClusterRoleBindings, so a namespace-bound user gets 403 there;
- a `DenyRule` takes a binding away (a scenario's forbidden namespace). RBAC is additive, so
  a user who lacks a namespace cannot have the cluster-wide binding either: a deny in any
  namespace also forbids the cluster-scope list, watch and deletecollection of that resource.
Creating a SelfSubjectAccessReview is always allowed (as for `system:basic-user`), and the
review is answered with the same rules, so `kubectl auth can-i` tells the truth.
Mutate an `Auth` only from the server's loop thread (`SimServer.call`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ncconsole.sim.apiserver.errors import ApiError

READ_VERBS = frozenset({"get", "list", "watch"})
CLUSTER_SCOPE_VERBS = frozenset({"list", "watch", "deletecollection"})
# The built-in `view` role (system:aggregate-to-view) by API group: what it may read. The
# escalating resources - secrets, pods/exec, pods/attach, pods/portforward, the proxies -
# and leases are not in it.
VIEW_READABLE: dict[str, frozenset[str]] = {
    "": frozenset({
        "pods", "pods/log", "pods/status", "replicationcontrollers", "serviceaccounts",
        "services", "services/status", "endpoints", "persistentvolumeclaims", "configmaps",
        "limitranges", "resourcequotas", "bindings", "events", "namespaces",
        "namespaces/status",
    }),
    "apps": frozenset({
        "controllerrevisions", "statefulsets", "statefulsets/status", "daemonsets",
        "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
        "replicasets", "replicasets/status",
    }),
    # Aggregated into `view` by the platform (Argo CD) and by the ESO chart's
    # external-secrets-view ClusterRole (rbac.authorization.k8s.io/aggregate-to-view).
    "argoproj.io": frozenset({"applications", "applicationsets", "appprojects"}),
    "external-secrets.io": frozenset({
        "externalsecrets", "secretstores", "clustersecretstores", "clusterexternalsecrets",
    }),
}  # fmt: skip


@dataclass(frozen=True)
class User:
    name: str
    read_only: bool = False  # the built-in `view` role instead of cluster-admin
    groups: tuple[str, ...] = ("system:authenticated",)
    # None: a ClusterRoleBinding. Else RoleBindings in these namespaces (globs allowed) only.
    namespaces: tuple[str, ...] | None = None

    def bound_in(self, namespace: str) -> bool:
        if self.namespaces is None:
            return True
        return bool(namespace) and any(fnmatchcase(namespace, p) for p in self.namespaces)


@dataclass(frozen=True)
class DenyRule:
    """Forbid `verbs` on `resources` in `namespaces` to `user`; "*" matches anything.

    A resource is a plural, optionally with a subresource (`pods/exec`); the plural alone
    also covers its subresources. `namespaces=("*",)` includes cluster-scoped requests."""

    user: str = "*"
    verbs: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)

    def matches(self, user: str, verb: str, resource: str, namespace: str | None) -> bool:
        """Whether it forbids this; `namespace` None means "in any namespace"."""
        plural = resource.split("/")[0]
        return (
            self.user in ("*", user)
            and ("*" in self.verbs or verb in self.verbs)
            and ("*" in self.resources or resource in self.resources or plural in self.resources)
            and (namespace is None or "*" in self.namespaces or namespace in self.namespaces)
        )


def _view_allows(verb: str, resource: str, group: str) -> bool:
    return verb in READ_VERBS and resource in VIEW_READABLE.get(group, frozenset())


@dataclass
class Auth:
    """Token table, expired tokens and deny rules. See the module docstring."""

    tokens: dict[str, User] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)
    deny_rules: list[DenyRule] = field(default_factory=list)
    # (group, plural) -> namespaced? Set by the API server from its registry.
    namespaced: Callable[[str, str], bool] = lambda group, plural: True

    def add_user(
        self,
        name: str,
        token: str,
        *,
        read_only: bool = False,
        namespaces: tuple[str, ...] | list[str] | None = None,
    ) -> User:
        bound = tuple(namespaces) if namespaces is not None else None
        user = User(name, read_only, namespaces=bound)
        self.tokens[token] = user
        return user

    def expire(self, token: str) -> None:
        """From now on this token answers 401, as an expired service-account token does."""
        self.expired_tokens.add(token)

    def deny(self, rule: DenyRule) -> None:
        self.deny_rules.append(rule)

    def authenticate(self, authorization: str | None) -> User:
        """The user behind an `Authorization: Bearer ...` header; 401 ApiError otherwise."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError.unauthorized()
        token = authorization[len("Bearer ") :].strip()
        user = self.tokens.get(token)
        if user is None or token in self.expired_tokens:
            raise ApiError.unauthorized()
        return user

    def allowed(
        self, user: User, verb: str, resource: str, namespace: str, group: str = ""
    ) -> bool:
        if resource == "selfsubjectaccessreviews" and verb == "create":
            return True
        if user.read_only and not _view_allows(verb, resource, group):
            return False
        if not user.bound_in(namespace):
            return False
        across = (
            not namespace
            and verb in CLUSTER_SCOPE_VERBS
            and self.namespaced(group, resource.split("/")[0])
        )
        return not any(
            r.matches(user.name, verb, resource, None if across else namespace)
            for r in self.deny_rules
        )

    def check(
        self, user: User, verb: str, resource: str, group: str, namespace: str, name: str = ""
    ) -> None:
        """Raise the real 403 Forbidden ApiError unless `user` may do this."""
        if not self.allowed(user, verb, resource, namespace, group):
            raise ApiError.forbidden(user.name, verb, resource, group, namespace, name)

    def review(self, user: User, spec: dict) -> dict:
        """The `status` of a SelfSubjectAccessReview for `spec`."""
        attrs = spec.get("resourceAttributes")
        if not attrs:
            return {"allowed": True}  # non-resource URLs (/healthz, /version) are open to all
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource += "/" + attrs["subresource"]
        verb, namespace = attrs.get("verb", ""), attrs.get("namespace", "")
        if self.allowed(user, verb, resource, namespace, attrs.get("group", "")):
            return {
                "allowed": True,
                "reason": f'RBAC: allowed by the simulator to User "{user.name}"',
            }
        return {"allowed": False}  # RBAC has no reason to give when no rule allows
