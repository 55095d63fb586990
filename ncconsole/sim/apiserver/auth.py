"""Who is calling and what they may do: bearer tokens, deny rules, read-only users.

`Auth` is the simulator's authenticator and authorizer in one. Every user is allowed
everything except what a `DenyRule` forbids; a read-only user may only get, list and watch.
Creating a SelfSubjectAccessReview is always allowed (as for `system:basic-user`), and the
review is answered with the same rules, so `kubectl auth can-i` tells the truth.
Mutate an `Auth` only from the server's loop thread (`SimServer.call`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ncconsole.sim.apiserver.errors import ApiError

READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class User:
    name: str
    read_only: bool = False
    groups: tuple[str, ...] = ("system:authenticated",)


@dataclass(frozen=True)
class DenyRule:
    """Forbid `verbs` on `resources` in `namespaces` to `user`; "*" matches anything.

    A resource is a plural, optionally with a subresource (`pods/exec`); the plural alone
    also covers its subresources. `namespaces=("*",)` includes cluster-scoped requests."""

    user: str = "*"
    verbs: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)

    def matches(self, user: str, verb: str, resource: str, namespace: str) -> bool:
        plural = resource.split("/")[0]
        return (
            self.user in ("*", user)
            and ("*" in self.verbs or verb in self.verbs)
            and ("*" in self.resources or resource in self.resources or plural in self.resources)
            and ("*" in self.namespaces or namespace in self.namespaces)
        )


@dataclass
class Auth:
    """Token table, expired tokens and deny rules. See the module docstring."""

    tokens: dict[str, User] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)
    deny_rules: list[DenyRule] = field(default_factory=list)

    def add_user(self, name: str, token: str, *, read_only: bool = False) -> User:
        user = User(name, read_only)
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

    def allowed(self, user: User, verb: str, resource: str, namespace: str) -> bool:
        if resource == "selfsubjectaccessreviews" and verb == "create":
            return True
        if user.read_only and verb not in READ_VERBS:
            return False
        return not any(r.matches(user.name, verb, resource, namespace) for r in self.deny_rules)

    def check(
        self, user: User, verb: str, resource: str, group: str, namespace: str, name: str = ""
    ) -> None:
        """Raise the real 403 Forbidden ApiError unless `user` may do this."""
        if not self.allowed(user, verb, resource, namespace):
            raise ApiError.forbidden(user.name, verb, resource, group, namespace, name)

    def review(self, user: User, spec: dict) -> dict:
        """The `status` of a SelfSubjectAccessReview for `spec`."""
        attrs = spec.get("resourceAttributes")
        if not attrs:
            return {"allowed": True}  # non-resource URLs (/healthz, /version) are open to all
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource += "/" + attrs["subresource"]
        if self.allowed(user, attrs.get("verb", ""), resource, attrs.get("namespace", "")):
            return {
                "allowed": True,
                "reason": f'RBAC: allowed by the simulator to User "{user.name}"',
            }
        return {"allowed": False}  # RBAC has no reason to give when no rule allows
