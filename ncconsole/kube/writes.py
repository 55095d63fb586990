"""Writes the tenant actions need: namespaces, Secrets, ExternalSecrets (Events: events.py;
access reviews, a read: access.py).

Every create takes `dry_run`: the request carries `dryRun=All`, so the API server validates
and admits the object (and answers with it) without storing anything. Errors come back as
ApiStatusError / ApiUnreachable from the connection; callers turn them into user messages.
"""

from __future__ import annotations

from typing import Any

from ncconsole.kube.connection import ApiStatusError, KubeConnection

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
