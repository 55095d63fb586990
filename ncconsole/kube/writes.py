"""Writes the tenant actions need: namespaces, Secrets, ExternalSecrets, Events, access reviews.

Every create takes `dry_run`: the request carries `dryRun=All`, so the API server validates
and admits the object (and answers with it) without storing anything. Errors come back as
ApiStatusError / ApiUnreachable from the connection; callers turn them into user messages.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from kubernetes import config as k8s_config

from ncconsole.kube.connection import ApiStatusError, KubeConnection, kubeconfig_path
from ncconsole.settings import Settings

ESO_API = "external-secrets.io/v1"


def _query(dry_run: bool) -> dict[str, Any]:
    return {"dryRun": "All"} if dry_run else {}


def get_or_none(conn: KubeConnection, path: str) -> dict[str, Any] | None:
    """GET `path`; None on 404."""
    try:
        return conn.get_json(path)
    except ApiStatusError as err:
        if err.status == 404:
            return None
        raise


def namespace_path(name: str = "") -> str:
    return f"/api/v1/namespaces/{name}" if name else "/api/v1/namespaces"


def secret_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{namespace}/secrets"
    return f"{base}/{name}" if name else base


def external_secret_path(namespace: str, name: str = "") -> str:
    base = f"/apis/{ESO_API}/namespaces/{namespace}/externalsecrets"
    return f"{base}/{name}" if name else base


def create(
    conn: KubeConnection, path: str, body: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    """POST one object (a single call: it exists whole or not at all)."""
    return conn.request_json("POST", path, _query(dry_run), body)


def replace(
    conn: KubeConnection, path: str, body: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    """PUT the whole object; body.metadata.resourceVersion makes it fail with 409 if the
    object changed since it was read."""
    return conn.request_json("PUT", path, _query(dry_run), body)


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
    answer = conn.request_json(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", None, body
    )
    status = answer.get("status") or {}
    return bool(status.get("allowed")), str(status.get("reason") or "")


def record_event(
    conn: KubeConnection,
    namespace: str,
    *,
    reason: str,
    message: str,
    warning: bool = False,
    involved_kind: str = "Namespace",
    involved_name: str = "",
    component: str = "ncconsole",
) -> dict[str, Any]:
    """A core/v1 Event in `namespace`, about the namespace itself unless told otherwise.

    `involvedObject.namespace` is always the Event's own namespace, even for the (cluster-
    scoped) Namespace: the apiserver refuses a legacy Event whose involved object names no
    namespace unless the Event lives in `default` (legacyValidateEvent, kubernetes
    pkg/apis/core/validation/events.go), and `default` is where no one would look."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    involved = {
        "kind": involved_kind,
        "name": involved_name or namespace,
        "namespace": namespace,
        "apiVersion": "v1",
    }
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"ncconsole.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    return create(conn, f"/api/v1/namespaces/{namespace}/events", body)


def context_user(settings: Settings, context: str) -> str:
    """The kubeconfig user name of `context` (who the cluster sees), "" when unknown."""
    try:
        contexts, _ = k8s_config.list_kube_config_contexts(config_file=kubeconfig_path(settings))
    except Exception:  # in-cluster, or an unreadable file: identity stays unknown
        return ""
    for item in contexts or []:
        if isinstance(item, dict) and item.get("name") == context:
            return str((item.get("context") or {}).get("user") or "")
    return ""
