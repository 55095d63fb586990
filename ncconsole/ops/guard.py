"""Safety checks before an action: read-only mode, occ command classes, RBAC access reviews.

Read-only mode is enforced here, in ops/, so a hidden button is never the only protection.
occ commands are classified conservatively: only the allowlisted read-only commands count as
read-only; everything else (including abbreviations like `maint:mode`) changes state and
needs confirmation. Reading a secret (`config:system:get dbpassword`) is not read-only either:
it needs confirmation, is refused in read-only mode, and its output is masked (ops/occ.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ncconsole.kube.access import access_review
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.ops.errors import AccessDenied, ConfirmationRequired, ReadOnlyRefused
from ncconsole.settings import Settings

# occ commands that only read. `maintenance:mode` without --on/--off only shows the mode.
OCC_READ_ONLY = frozenset(
    {
        "status",
        "check",
        "list",
        "help",
        "app:list",
        "app:getpath",
        "user:list",
        "user:info",
        "user:lastseen",
        "user:report",
        "group:list",
        "config:system:get",
        "config:app:get",
        "config:list",
        "background-job:list",
        "setupchecks",
        "maintenance:mode",
        "integrity:check-core",
        "integrity:check-app",
        "encryption:status",
        "twofactorauth:state",
    }
)
# Options that turn an otherwise read-only command into one that writes or reveals secrets.
OCC_UNSAFE_OPTIONS = {
    "maintenance:mode": ("--on", "--off"),
    "config:list": ("--private",),
}


# System config keys that hold credentials, or sections with credentials in them: the ones
# Nextcloud itself masks in `config:list` (lib/private/SystemConfig.php, $sensitiveValues).
SECRET_SYSTEM_KEYS = frozenset(
    {
        "dbpassword", "activity_dbpassword", "mail_smtppassword", "passwordsalt", "secret",
        "updater.secret", "preview_imaginary_key", "proxyuserpwd", "zammad.download.secret",
        "zammad.portal.secret", "zammad.secret", "github.client_secret", "license-key",
        "log.condition", "redis", "redis.cluster", "objectstore", "objectstore_multibucket",
        "onlyoffice",
    }
)  # fmt: skip
# Any other config key (system or app) whose name says it is a credential.
_SECRET_KEY_NAME = re.compile(r"(password|passwd|pwd|secret|salt|token|private.?key)", re.I)
CONFIG_GETS = ("config:system:get", "config:app:get")


def reads_secret(args: Sequence[str]) -> bool:
    """Whether `occ args` prints a credential: `config:system:get dbpassword`, a section
    holding one (`config:system:get objectstore`), or an app key named like one."""
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] not in CONFIG_GETS:
        return False
    keys = words[1:] if words[0] == "config:system:get" else words[2:]
    if words[0] == "config:system:get" and keys and keys[0] in SECRET_SYSTEM_KEYS:
        return True
    return any(_SECRET_KEY_NAME.search(key) for key in keys)


def occ_command(args: Sequence[str]) -> str:
    """The occ command name in `args` (the first word that is not an option); "" if none."""
    return next((a for a in args if not a.startswith("-")), "")


def is_read_only_occ(args: Sequence[str]) -> bool:
    """True only for allowlisted read-only occ commands without a state-changing option."""
    command = occ_command(args)
    if not command:
        return all(a in ("-V", "--version", "-h", "--help") for a in args) and bool(args)
    if command not in OCC_READ_ONLY or reads_secret(args):
        return False
    unsafe = OCC_UNSAFE_OPTIONS.get(command, ())
    return not any(a.split("=", 1)[0] in unsafe for a in args)


def check_occ(settings: Settings, args: Sequence[str], *, confirmed: bool) -> bool:
    """Raise unless `occ args` may run now; returns whether the command changes state."""
    if not args:
        raise ConfirmationRequired("no occ command given; e.g. `ncconsole occ TENANT -- status`")
    if is_read_only_occ(args):
        return False
    command = occ_command(args) or " ".join(args)
    if reads_secret(args):
        what = " ".join(a for a in args if not a.startswith("-"))
        if settings.read_only:
            raise ReadOnlyRefused(
                f"read-only mode: occ {what} prints a secret; it is not a read-only command"
            )
        if not confirmed:
            raise ConfirmationRequired(
                f"occ {what} prints a secret (shown masked); confirm it (--yes on the command line)"
            )
        return False
    if settings.read_only:
        allowed = ", ".join(sorted(OCC_READ_ONLY))
        raise ReadOnlyRefused(
            f"read-only mode: occ {command} may change state; allowed commands: {allowed}"
        )
    if not confirmed:
        raise ConfirmationRequired(
            f"occ {command} may change state; confirm it (--yes on the command line)"
        )
    return True


def require_writable(settings: Settings, action: str) -> None:
    """Refuse a mutating action in read-only mode."""
    if settings.read_only:
        raise ReadOnlyRefused(
            f"read-only mode: refusing to {action}; run without --read-only "
            "(and without read_only: true in the config) to change anything"
        )


def forbidden_message(
    verb: str, resource: str, namespace: str, *, group: str = "", subresource: str = ""
) -> str:
    what = f"{resource}/{subresource}" if subresource else resource
    if group:
        what = f"{what}.{group}"
    where = f"in namespace {namespace}" if namespace else "at cluster scope"
    return f"forbidden: your credentials may not {verb} {what} {where}; ask for that RBAC right"


def denied(
    err: ApiStatusError, verb: str, resource: str, namespace: str, *, group: str = ""
) -> Exception:
    """The error to raise for a failed write: AccessDenied for 403, else `err` unchanged."""
    if err.status == 403:
        return AccessDenied(forbidden_message(verb, resource, namespace, group=group))
    return err


@dataclass(frozen=True)
class Permission:
    verb: str
    resource: str
    namespace: str = ""
    group: str = ""
    subresource: str = ""

    def message(self) -> str:
        return forbidden_message(
            self.verb,
            self.resource,
            self.namespace,
            group=self.group,
            subresource=self.subresource,
        )


def check_access(conn: KubeConnection, permission: Permission) -> bool:
    """Ask the API (SelfSubjectAccessReview) whether the action would be allowed."""
    allowed, _ = access_review(
        conn,
        permission.verb,
        permission.resource,
        permission.namespace,
        group=permission.group,
        subresource=permission.subresource,
    )
    return allowed


def exec_permissions(namespace: str) -> tuple[Permission, Permission]:
    """What `occ` needs in `namespace`: the Python client opens exec as a websocket GET,
    authorized as `get pods/exec` up to Kubernetes 1.34 and as `create pods/exec` as well
    from 1.35 (AuthorizePodWebsocketUpgradeCreatePermission, kubernetes#134577). Both are
    checked, so the missing verb is named before the exec is refused."""
    return (
        Permission("get", "pods", namespace, subresource="exec"),
        Permission("create", "pods", namespace, subresource="exec"),
    )


def require_access(conn: KubeConnection, *permissions: Permission) -> None:
    """AccessDenied naming the first permission the cluster would refuse."""
    for permission in permissions:
        if not check_access(conn, permission):
            raise AccessDenied(permission.message())


def tenant_permissions(conn: KubeConnection, settings: Settings, tenant: str) -> dict[str, str]:
    """Per action the console offers on a tenant: "" when allowed, else why not (read-only
    mode or the RBAC refusal, naming verb, resource and namespace). For menus and buttons."""
    namespace = settings.namespace_for(tenant)
    checks: dict[str, tuple[Permission, ...]] = {
        "occ": exec_permissions(namespace),
        "secret.create": (Permission("create", "secrets", namespace),),
        "secret.rotate": (Permission("update", "secrets", namespace),),
    }
    out: dict[str, str] = {}
    for action, permissions in checks.items():
        if settings.read_only and action != "occ":
            out[action] = "read-only mode"
            continue
        missing = next((p for p in permissions if not check_access(conn, p)), None)
        out[action] = "" if missing is None else missing.message()
    return out
