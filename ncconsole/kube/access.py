"""Whether the current credentials may do something, asked before doing it: a
SelfSubjectAccessReview (ops/guard.py turns a "no" into a message naming verb and resource)."""

from __future__ import annotations

from ncconsole.kube.connection import KubeConnection, not_kubernetes


def access_review(
    conn: KubeConnection,
    verb: str,
    resource: str,
    namespace: str = "",
    *,
    group: str = "",
    subresource: str = "",
    name: str = "",
) -> tuple[bool, str]:
    """SelfSubjectAccessReview: (allowed, reason) for the current credentials."""
    attrs = {"verb": verb, "resource": resource, "group": group}
    for key, value in (("namespace", namespace), ("subresource", subresource), ("name", name)):
        if value:
            attrs[key] = value
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    answer = conn.request_json("POST", path, None, body)
    status = answer.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("allowed"), bool):
        # A Kubernetes review always says allowed true or false; anything else is not one.
        raise not_kubernetes(conn.cluster, path, "no access review", method="POST")
    return status["allowed"], str(status.get("reason") or "")
