"""S3 credentials from the tenants' Secrets, for the bucket probe. Values are never logged.

One cluster-wide list of the Secrets named settings.secret.name (a field selector), cached for
a while, instead of one GET per tenant: the request count must not grow with the fleet.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.settings import Settings

ACCESS_KEY = "s3-access-key"
SECRET_KEY = "s3-secret-key"


class S3Credentials:
    """An access/secret key pair; repr hides the secret."""

    __slots__ = ("access_key", "secret_key")

    def __init__(self, access_key: str, secret_key: str) -> None:
        self.access_key = access_key
        self.secret_key = secret_key

    def __repr__(self) -> str:
        return f"S3Credentials(access_key={self.access_key!r}, secret_key='***')"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, S3Credentials)
            and other.access_key == self.access_key
            and other.secret_key == self.secret_key
        )

    def __hash__(self) -> int:
        return hash((self.access_key, self.secret_key))


class TenantSecretReader:
    """Namespace -> S3Credentials from the tenant Secrets, refreshed at most every `ttl` s."""

    def __init__(self, conn: KubeConnection, settings: Settings, ttl: float = 300.0) -> None:
        self.conn = conn
        self.secret_name = settings.secret.name
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, S3Credentials] = {}
        self._fetched_at: float | None = None
        # Why the Secrets could not be read ("forbidden", ...); "" when they could.
        self.problem = ""
        # The cluster-wide list is forbidden: each namespace's Secret is read on its own.
        self._per_namespace = False
        self._namespace_read: dict[str, float] = {}

    def credentials(self, namespace: str) -> S3Credentials | None:
        with self._lock:
            now = time.monotonic()
            if self._per_namespace:
                return self._namespace_credentials(namespace, now)
            if self._fetched_at is None or now - self._fetched_at > self.ttl:
                self._refresh()
                self._fetched_at = now
            if self._per_namespace:
                return self._namespace_credentials(namespace, now)
            return self._cache.get(namespace)

    def _namespace_credentials(self, namespace: str, now: float) -> S3Credentials | None:
        """The cluster-wide list is forbidden (RBAC grants it only cluster-wide): read the one
        Secret in `namespace`, kept `ttl` seconds like the list."""
        read_at = self._namespace_read.get(namespace)
        if read_at is None or now - read_at > self.ttl:
            self._namespace_read[namespace] = now
            try:
                values = read_secret_values(self.conn, namespace, self.secret_name)
            except (ApiStatusError, ApiUnreachable):
                self._cache.pop(namespace, None)
                return None
            access, secret = values.get(ACCESS_KEY, ""), values.get(SECRET_KEY, "")
            if access and secret:
                self._cache[namespace] = S3Credentials(access, secret)
            else:
                self._cache.pop(namespace, None)
        return self._cache.get(namespace)

    def invalidate(self) -> None:
        with self._lock:
            self._fetched_at = None

    def _refresh(self) -> None:
        try:
            data = self.conn.get_json(
                "/api/v1/secrets", {"fieldSelector": f"metadata.name={self.secret_name}"}
            )
        except ApiStatusError as err:
            self.problem = "forbidden" if err.status == 403 else f"HTTP {err.status}"
            self._per_namespace = err.status == 403
            return
        except ApiUnreachable as err:
            self.problem = str(err)
            return
        found: dict[str, S3Credentials] = {}
        for item in data.get("items") or ():
            namespace = (item.get("metadata") or {}).get("namespace") or ""
            values = item.get("data") or {}
            access, secret = _decode(values.get(ACCESS_KEY)), _decode(values.get(SECRET_KEY))
            if namespace and access and secret:
                found[namespace] = S3Credentials(access, secret)
        self._cache = found
        self.problem = ""


def _decode(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def read_secret_values(conn: KubeConnection, namespace: str, name: str) -> dict[str, str]:
    """The decoded values of one Secret (e.g. a platform component's credentials).

    Raises ApiStatusError (404 missing, 403 forbidden) or ApiUnreachable; values never logged."""
    data = conn.get_json(f"/api/v1/namespaces/{namespace}/secrets/{name}").get("data") or {}
    return {str(key): _decode(value) for key, value in data.items()}
