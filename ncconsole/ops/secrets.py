"""Tenant Secrets: create `nextcloud-secrets` (generated values or an ExternalSecret); the
rotation of single keys is in secret_rotation.py. Values are generated with `secrets`, sent
to the API server in one create call, and never returned, printed, logged or written to
disk: results carry masked objects.

S3 keys come from the caller (CLI flags) or the environment variables NCCONSOLE_S3_ACCESS_KEY
and NCCONSOLE_S3_SECRET_KEY; without them creation is refused.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ncconsole.kube import writes
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.ops.audit import MASK, Auditor
from ncconsole.ops.errors import ConfirmationRequired, MissingValue, SecretExists
from ncconsole.ops.guard import Permission, denied, require_access, require_writable
from ncconsole.settings import Settings

ACCESS_KEY_ENV = "NCCONSOLE_S3_ACCESS_KEY"
SECRET_KEY_ENV = "NCCONSOLE_S3_SECRET_KEY"
SECRET_KEYS = (
    "nextcloud-username",
    "nextcloud-password",
    "nextcloud-secret",
    "db-password",
    "redis-password",
    "s3-access-key",
    "s3-secret-key",
)
GENERATED_LENGTH = {"nextcloud-password": 32, "nextcloud-secret": 48, "db-password": 32,
                    "redis-password": 32}  # fmt: skip
MANAGED_BY = {"app.kubernetes.io/managed-by": "ncconsole"}
_ALPHABET = string.ascii_letters + string.digits
Progress = Callable[[str], None]


def generate_value(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class SecretRequest:
    tenant: str
    mode: Literal["generate", "external-secrets"] = "generate"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    dry_run: bool = False
    # The user agreed to create the tenant namespace if it is missing.
    create_namespace: bool = False
    wait_timeout: float = 60.0


@dataclass
class SecretResult:
    tenant: str
    namespace: str
    kind: str  # Secret | ExternalSecret
    name: str
    dry_run: bool
    namespace_created: bool = False
    keys: tuple[str, ...] = ()
    # The object as the API server accepted it, secret values replaced by ********.
    masked_object: dict[str, Any] = field(default_factory=dict)
    ready: bool | None = None  # ExternalSecret only
    message: str = ""
    # What went wrong recording the action (audit line, Event); the action itself stands.
    audit_problem: str = ""
    # What else the change means, per key (restart needed or not, set in Nextcloud too).
    notes: tuple[str, ...] = ()


def s3_keys(access_key: str | None, secret_key: str | None) -> tuple[str, str]:
    """The tenant's S3 keys from the arguments, else the environment; MissingValue if absent."""
    access = access_key or os.environ.get(ACCESS_KEY_ENV, "")
    secret = secret_key or os.environ.get(SECRET_KEY_ENV, "")
    missing = [
        f"--s3-{name}-key (or {env})"
        for name, env, value in (
            ("access", ACCESS_KEY_ENV, access),
            ("secret", SECRET_KEY_ENV, secret),
        )
        if not value
    ]
    if missing:
        raise MissingValue(
            f"missing S3 keys: {' and '.join(missing)}; the tenant's RGW user keys are needed"
        )
    return access, secret


def masked(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a Secret with every value in data/stringData replaced by ********."""
    copy = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(copy.get(key), Mapping):
            copy[key] = dict.fromkeys(copy[key], MASK)
    return copy


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _secret_body(settings: Settings, namespace: str, values: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": settings.secret.name, "namespace": namespace, "labels": MANAGED_BY},
        "data": {key: b64(value) for key, value in values.items()},
    }


def external_secret_body(
    settings: Settings, tenant: str, namespace: str, api: str = writes.ESO_API
) -> dict[str, Any]:
    remote_key = settings.secret.remote_key.format(tenant=tenant)
    return {
        "apiVersion": api,
        "kind": "ExternalSecret",
        "metadata": {"name": settings.secret.name, "namespace": namespace, "labels": MANAGED_BY},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {
                "kind": settings.secret.store_kind,
                "name": settings.secret.store_name,
            },
            "target": {"name": settings.secret.name, "creationPolicy": "Owner"},
            "data": [
                {"secretKey": key, "remoteRef": {"key": remote_key, "property": key}}
                for key in SECRET_KEYS
            ],
        },
    }


def _generated_values(settings: Settings, access: str, secret: str) -> dict[str, str]:
    values = {"nextcloud-username": settings.secret.admin_username}
    for key, length in GENERATED_LENGTH.items():
        values[key] = generate_value(length)
    if settings.secret.redis_password:
        values["redis-password"] = settings.secret.redis_password
    values["s3-access-key"], values["s3-secret-key"] = access, secret
    return values


def create_tenant_secret(
    conn: KubeConnection,
    settings: Settings,
    request: SecretRequest,
    *,
    auditor: Auditor,
    progress: Progress | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> SecretResult:
    """Create the tenant's Secret (or ExternalSecret); never overwrites an existing one.

    A missing namespace is created only when `request.create_namespace` is set or
    `confirm(question)` says yes; otherwise ConfirmationRequired."""
    say = progress or (lambda _message: None)
    namespace = settings.namespace_for(request.tenant)
    name = settings.secret.name
    args = {"mode": request.mode, "dry_run": request.dry_run, "secret": name}
    if request.mode == "generate":
        args["s3_keys_given"] = bool(request.s3_access_key or os.environ.get(ACCESS_KEY_ENV))
    with auditor.action(
        "secret.create", f"{namespace}/{name}", args,
        namespace=namespace, reason="NcconsoleSecretCreated", mutating=not request.dry_run,
    ) as act:  # fmt: skip
        require_writable(settings, f"create Secret {namespace}/{name}")
        external = request.mode == "external-secrets"
        values = {} if external else _generated_values(settings, *s3_keys(
            request.s3_access_key, request.s3_secret_key))  # fmt: skip
        kind = "ExternalSecret" if external else "Secret"
        checks = [Permission("create", "secrets", namespace)]
        if external:
            checks = [Permission("create", "externalsecrets", namespace, "external-secrets.io")]
        require_access(conn, *checks)
        ns_exists = writes.get_or_none(conn, writes.namespace_path(namespace)) is not None
        if not ns_exists:
            require_access(conn, Permission("create", "namespaces"))
            question = f"Namespace {namespace} does not exist. Create it?"
            agreed = request.create_namespace or (confirm is not None and confirm(question))
            if not agreed and not request.dry_run:
                raise ConfirmationRequired(
                    f"namespace {namespace} does not exist; confirm creating it (--yes)"
                )
        _refuse_existing(conn, settings, request.tenant, namespace, external, ns_exists)
        result = SecretResult(request.tenant, namespace, kind, name, request.dry_run)
        if request.dry_run:
            act.result = "dry-run"
        if not ns_exists:
            say(f"{'checking' if request.dry_run else 'creating'} namespace {namespace}")
            ns_body = {"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": namespace, "labels": MANAGED_BY}}  # fmt: skip
            _create(conn, writes.namespace_path(), ns_body, "namespaces", "", request.dry_run)
            result.namespace_created = not request.dry_run
        api = writes.eso_api(conn) if external else ""
        body = (
            external_secret_body(settings, request.tenant, namespace, api)
            if external
            else _secret_body(settings, namespace, values)
        )
        path = (
            writes.external_secret_path(namespace, api=api)
            if external
            else writes.secret_path(namespace)
        )
        if request.dry_run and not ns_exists:
            # The server cannot dry-run an object in a namespace that does not exist yet.
            accepted = body
            result.message = f"namespace {namespace} would be created first"
        else:
            say(f"{'checking' if request.dry_run else 'creating'} {kind} {namespace}/{name}")
            resource, group = (
                ("externalsecrets", "external-secrets.io") if external else ("secrets", "")
            )
            accepted = _create(conn, path, body, resource, group, request.dry_run, namespace)
        values.clear()
        result.masked_object = masked(accepted)
        result.keys = tuple(SECRET_KEYS)
        if external and not request.dry_run:
            say(f"waiting up to {request.wait_timeout:g} s for ExternalSecret {name} to be Ready")
            result.ready, result.message = wait_external_secret_ready(
                conn, namespace, name, request.wait_timeout
            )
            if not result.ready:
                act.result, act.exit_code = "not-ready", 1
            act.message = result.message
    result.audit_problem = act.problem
    return result


def _refuse_existing(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    namespace: str,
    external: bool,
    ns_exists: bool,
) -> None:
    if not ns_exists:
        return
    name = settings.secret.name
    hint = f"use `ncconsole secret rotate {tenant} KEY...` to replace keys"
    if writes.get_or_none(conn, writes.secret_path(namespace, name)) is not None:
        raise SecretExists(
            f"Secret {namespace}/{name} already exists and is never overwritten; {hint}"
        )
    if external and writes.get_or_none(
        conn, writes.external_secret_path(namespace, name, writes.eso_api(conn))
    ):
        raise SecretExists(f"ExternalSecret {namespace}/{name} already exists")


def _create(
    conn: KubeConnection,
    path: str,
    body: dict[str, Any],
    resource: str,
    group: str,
    dry_run: bool,
    namespace: str = "",
) -> dict[str, Any]:
    try:
        return writes.create(conn, path, body, dry_run=dry_run)
    except ApiStatusError as err:
        if err.status == 409:
            where = f"{namespace}/" if namespace else ""
            raise SecretExists(
                f"{body['kind']} {where}{body['metadata']['name']} already exists "
                "(created meanwhile); it is never overwritten"
            ) from None
        raise denied(err, "create", resource, namespace, group=group) from None


def wait_external_secret_ready(
    conn: KubeConnection, namespace: str, name: str, timeout: float, interval: float = 0.5
) -> tuple[bool, str]:
    """Poll the ExternalSecret until its Ready condition is True, or the deadline passes."""
    deadline = time.monotonic() + timeout
    message = "no Ready condition yet"
    while True:
        path = writes.external_secret_path(namespace, name, writes.eso_api(conn))
        obj = writes.get_or_none(conn, path) or {}
        for cond in (obj.get("status") or {}).get("conditions") or ():
            if cond.get("type") == "Ready":
                message = str(cond.get("message") or cond.get("reason") or "")
                if cond.get("status") == "True":
                    return True, message or "Ready"
        if time.monotonic() >= deadline:
            return (
                False,
                f"ExternalSecret {namespace}/{name} not Ready after {timeout:g} s: {message}",
            )
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
