"""What the console may not read, in words: the same lines in the console's header and in
`ncconsole status`. RBAC grants a list across all namespaces only through a cluster-wide
binding; the fleet then reads pods, Deployments and Events per tenant namespace, and a tenant
whose namespace refuses even that is unknown, never healthy (fleet/health.assess)."""

from __future__ import annotations

from ncconsole.fleet.model import FleetSnapshot, Health, KindStatus

NO_ACCESS = "no access to "
NAMED = 3  # namespaces named before "+N more"


def per_namespace_kinds(snapshot: FleetSnapshot) -> list[str]:
    return sorted(k for k, s in snapshot.kinds.items() if s.status is KindStatus.PER_NAMESPACE)


def forbidden_kinds(snapshot: FleetSnapshot) -> list[str]:
    return sorted(k for k, s in snapshot.kinds.items() if s.status is KindStatus.FORBIDDEN)


def unreadable_namespaces(snapshot: FleetSnapshot) -> list[str]:
    """The namespaces of tenants that are unknown because RBAC hides their pods."""
    return sorted(
        t.namespace
        for t in snapshot.tenants
        if t.health is Health.UNKNOWN and NO_ACCESS in t.reason
    )


def access_lines(snapshot: FleetSnapshot) -> list[str]:
    """One line per fact, e.g. "read per namespace (no cluster-wide list allowed): pods"."""
    lines = []
    per_namespace = per_namespace_kinds(snapshot)
    if per_namespace:
        lines.append(
            "read per namespace (no cluster-wide list allowed): " + ", ".join(per_namespace)
        )
    forbidden = forbidden_kinds(snapshot)
    if forbidden:
        lines.append(f"not allowed to read: {', '.join(forbidden)} (RBAC forbids it)")
    hidden = unreadable_namespaces(snapshot)
    if hidden:
        named = ", ".join(hidden[:NAMED]) + (
            f" +{len(hidden) - NAMED} more" if len(hidden) > NAMED else ""
        )
        lines.append(f"no access in {len(hidden)} tenant namespace(s): {named} — shown as unknown")
    return lines
