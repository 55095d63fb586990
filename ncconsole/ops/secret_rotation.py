"""Rotate single keys of a tenant Secret: new values for the named keys only, written with
the resourceVersion that was read, so a concurrent change fails the rotation instead of being
overwritten. Values are never returned: the result carries the masked object.

A key is more than the Secret: the chart hands each to the pods as an environment variable,
read at pod start. So a rotation also says what else must happen:
- `db-password` and `redis-password` are the database role's and the shared Redis' passwords;
  a new random value in the Secret alone breaks the tenant at its next pod start. They are
  refused unless the caller says the server already has the new value, and give that value.
- `nextcloud-password` is the admin's password: it is also set in Nextcloud itself
  (`occ user:resetpassword --password-from-env`), which is why no restart is needed.
- the S3 keys are the tenant's RGW user keys: given, never generated.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from ncconsole.kube import writes
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.exec import pick_ready_pod
from ncconsole.ops.audit import Auditor
from ncconsole.ops.errors import MissingValue, OpsError, Refused
from ncconsole.ops.guard import (
    Permission,
    denied,
    exec_permissions,
    require_access,
    require_writable,
)
from ncconsole.ops.occ import set_user_password
from ncconsole.ops.secrets import (
    ACCESS_KEY_ENV,
    GENERATED_LENGTH,
    SECRET_KEY_ENV,
    SECRET_KEYS,
    SecretResult,
    b64,
    generate_value,
    masked,
)
from ncconsole.settings import Settings

# Keys whose value is also a server's password, and where the new value comes from.
SERVER_PASSWORDS = {
    "db-password": ("the tenant's database role (PostgreSQL behind PgBouncer)",
                    "NCCONSOLE_DB_PASSWORD"),
    "redis-password": ("the shared Redis (every tenant's Secret holds it)",
                       "NCCONSOLE_REDIS_PASSWORD"),
}  # fmt: skip
# Where a key that cannot be generated gets its new value on the command line.
GIVEN_BY = {
    "s3-access-key": f"--s3-access-key (or {ACCESS_KEY_ENV})",
    "s3-secret-key": f"--s3-secret-key (or {SECRET_KEY_ENV})",
    **{key: env for key, (_, env) in SERVER_PASSWORDS.items()},
}
RESTART = "pods read it at start: restart them (kubectl -n {ns} rollout restart deployment)"
NOTES = {
    "nextcloud-password": "set in Nextcloud too (occ user:resetpassword); no restart needed: "
    "pods read it only at the first install",
    "nextcloud-secret": "no restart needed: pods read it only at the first install; the "
    "installed Nextcloud keeps its own 'secret'",
    "s3-access-key": RESTART,
    "s3-secret-key": RESTART,
    "db-password": RESTART,
    "redis-password": RESTART,
}


def rotate_secret_keys(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    keys: Sequence[str],
    *,
    auditor: Auditor,
    given: Mapping[str, str] | None = None,
    dry_run: bool = False,
    server_changed: bool = False,
) -> SecretResult:
    """Replace only `keys` in the tenant Secret (new generated values, or `given` ones),
    with the resourceVersion read as precondition: a concurrent change makes it fail.
    `server_changed`: the database / Redis already has the given new password."""
    namespace = settings.namespace_for(tenant)
    name = settings.secret.name
    given = dict(given or {})
    args = {"keys": list(keys), "dry_run": dry_run, "server_changed": server_changed}
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
        # After the ExternalSecret check: such a Secret's values are rotated in the store,
        # whatever the key; the advice about the database or Redis would mislead there.
        _refuse_uncoordinated(keys, given, server_changed)
        data = dict(current.get("data") or {})
        unknown = [k for k in keys if k not in data and k not in SECRET_KEYS]
        if unknown:
            raise MissingValue(f"Secret {namespace}/{name} has no key {', '.join(unknown)}")
        sets_admin = "nextcloud-password" in keys and not dry_run
        if sets_admin:
            _require_ready_pod(conn, settings, tenant)
        new_admin_password = ""
        for key in keys:
            if key in given:
                data[key] = b64(given[key])
            elif key in GENERATED_LENGTH:
                data[key] = b64(generate_value(GENERATED_LENGTH[key]))
            else:
                raise MissingValue(f"{key} cannot be generated; give its new value with "
                                   f"{GIVEN_BY.get(key, 'a given value')}")  # fmt: skip
            if key == "nextcloud-password":
                new_admin_password = base64.b64decode(data[key]).decode()
        admin = _decoded(data.get("nextcloud-username")) or settings.secret.admin_username
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
        if sets_admin:
            try:
                _set_in_nextcloud(conn, settings, tenant, admin, new_admin_password)
            finally:
                new_admin_password = ""
        result.notes = tuple(
            f"{key}: {NOTES[key].format(ns=namespace)}" for key in keys if key in NOTES
        )
    result.audit_problem = act.problem
    return result


def _refuse_uncoordinated(
    keys: Sequence[str], given: Mapping[str, str], server_changed: bool
) -> None:
    for key in keys:
        if key not in SERVER_PASSWORDS:
            continue
        server, env = SERVER_PASSWORDS[key]
        if not server_changed:
            raise Refused(
                f"{key} is also the password of {server}: a new value in the Secret alone "
                "breaks the tenant at its next pod start. Change it on the server first, then "
                f"rotate with --i-have-changed-the-server and the new value in {env}"
            )
        if not given.get(key):
            raise MissingValue(f"{key}: give the new value you set on {server} in {env}")


def _require_ready_pod(conn: KubeConnection, settings: Settings, tenant: str) -> None:
    """Before anything is written: nextcloud-password must also reach Nextcloud."""
    namespace = settings.namespace_for(tenant)
    require_access(conn, *exec_permissions(namespace))
    pod, why = pick_ready_pod(conn, namespace, settings.occ.container)
    if pod is None:
        raise Refused(
            f"tenant {tenant}: {why}; nextcloud-password is also set in Nextcloud, which needs "
            "a Ready pod; nothing was changed"
        )


def _set_in_nextcloud(
    conn: KubeConnection, settings: Settings, tenant: str, user: str, password: str
) -> None:
    run = set_user_password(conn, settings, tenant, user, password)
    if run.exit_code != 0:
        why = run.first_line or ("timed out" if run.timed_out else "no exit code")
        raise OpsError(
            f"the Secret has the new nextcloud-password but Nextcloud does not ({why}): "
            f"the admin '{user}' keeps the old password; run the rotation again"
        )


def _decoded(value: str | None) -> str:
    try:
        return base64.b64decode(value or "").decode() if value else ""
    except (binascii.Error, UnicodeDecodeError):
        return ""
