"""Rotate single keys of a tenant Secret: new values for the named keys only, written with
the resourceVersion that was read, so a concurrent change fails the rotation instead of being
overwritten. Values are never returned: the result carries the masked object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ncconsole.kube import writes
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.ops.audit import Auditor
from ncconsole.ops.errors import MissingValue, OpsError
from ncconsole.ops.guard import Permission, denied, require_access, require_writable
from ncconsole.ops.secrets import (
    GENERATED_LENGTH,
    SECRET_KEYS,
    SecretResult,
    b64,
    generate_value,
    masked,
)
from ncconsole.settings import Settings


def rotate_secret_keys(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    keys: Sequence[str],
    *,
    auditor: Auditor,
    given: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> SecretResult:
    """Replace only `keys` in the tenant Secret (new generated values, or `given` ones),
    with the resourceVersion read as precondition: a concurrent change makes it fail."""
    namespace = settings.namespace_for(tenant)
    name = settings.secret.name
    given = dict(given or {})
    args = {"keys": list(keys), "dry_run": dry_run}
    with auditor.action(
        "secret.rotate", f"{namespace}/{name}", args,
        namespace=namespace, reason="NcconsoleSecretRotated", mutating=not dry_run,
    ) as act:  # fmt: skip
        require_writable(settings, f"rotate keys of Secret {namespace}/{name}")
        if not keys:
            raise MissingValue(
                f"name the keys to rotate, e.g. db-password (known: {', '.join(SECRET_KEYS)})"
            )
        require_access(conn, Permission("update", "secrets", namespace))
        current = writes.get_or_none(conn, writes.secret_path(namespace, name))
        if current is None:
            raise OpsError(
                f"Secret {namespace}/{name} does not exist; create it with "
                f"`ncconsole secret create {tenant}`"
            )
        owners = (current.get("metadata") or {}).get("ownerReferences") or ()
        if any(o.get("kind") == "ExternalSecret" for o in owners):
            raise OpsError(
                f"Secret {namespace}/{name} is managed by an ExternalSecret; rotate the value in "
                f"the secret store ({settings.secret.store_kind} {settings.secret.store_name})"
            )
        data = dict(current.get("data") or {})
        unknown = [k for k in keys if k not in data and k not in SECRET_KEYS]
        if unknown:
            raise MissingValue(f"Secret {namespace}/{name} has no key {', '.join(unknown)}")
        for key in keys:
            if key in given:
                data[key] = b64(given[key])
            elif key in GENERATED_LENGTH:
                data[key] = b64(generate_value(GENERATED_LENGTH[key]))
            else:
                raise MissingValue(f"{key} cannot be generated; give its new value")
        body = dict(current, data=data)
        try:
            accepted = writes.replace(
                conn, writes.secret_path(namespace, name), body, dry_run=dry_run
            )
        except ApiStatusError as err:
            if err.status == 409:
                raise OpsError(
                    f"Secret {namespace}/{name} changed while rotating; nothing was written, "
                    "run the rotation again"
                ) from None
            raise denied(err, "update", "secrets", namespace) from None
        finally:
            data.clear()
            given.clear()
        if dry_run:
            act.result = "dry-run"
        result = SecretResult(tenant, namespace, "Secret", name, dry_run, keys=tuple(keys))
        result.masked_object = masked(accepted)
    result.audit_problem = act.problem
    return result
