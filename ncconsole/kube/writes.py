"""Writes the tenant actions need: namespaces, Secrets, ExternalSecrets (Events: events.py;
access reviews, a read: access.py).

Every create takes `dry_run`: the request carries `dryRun=All`, so the API server validates
and admits the object (and answers with it) without storing anything. Errors come back as
ApiStatusError / ApiUnreachable from the connection; callers turn them into user messages.
"""

from __future__ import annotations

from typing import Any

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection

ESO_GROUP = "external-secrets.io"
ESO_API = f"{ESO_GROUP}/v1"
# Preferred first: v1 is served from ESO 0.16.2, v1beta1 no longer from 0.17
# (external-secrets#4840, the v0.17.0 release notes).
ESO_VERSIONS = ("v1", "v1beta1")


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


def eso_api(conn: KubeConnection) -> str:
    """The External Secrets group/version this cluster serves ("external-secrets.io/v1",
    or "…/v1beta1" on an ESO older than 0.16.2), from API discovery, asked once per
    connection. v1 when ESO is not installed or discovery is not answered: the requests
    then fail with a plain 404 that names the missing API."""
    if "eso_api" not in conn.discovered:
        try:
            group = conn.get_json(f"/apis/{ESO_GROUP}")
        except (ApiStatusError, ApiUnreachable):
            return ESO_API  # asked again next time: the API may come back
        served = {str(v.get("version")) for v in group.get("versions") or [] if isinstance(v, dict)}
        version = next((v for v in ESO_VERSIONS if v in served), ESO_VERSIONS[0])
        conn.discovered["eso_api"] = f"{ESO_GROUP}/{version}"
    return str(conn.discovered["eso_api"])


def external_secret_path(namespace: str, name: str = "", api: str = ESO_API) -> str:
    base = f"/apis/{api}/namespaces/{namespace}/externalsecrets"
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
