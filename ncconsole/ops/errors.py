"""Why an action was refused or failed, as one line the user can act on."""

from __future__ import annotations

from ncconsole.errors import NcConsoleError


class OpsError(NcConsoleError):
    """An action could not be done; the message says why and what to do."""

    # How the audit trail names the outcome: "refused" (nothing was attempted) or "failed".
    audit_result = "failed"


class Refused(OpsError):
    """The action was not attempted: a rule, a right or a missing input stopped it."""

    audit_result = "refused"


class ReadOnlyRefused(Refused):
    """The console runs read-only (--read-only or the `read_only` setting)."""


class ConfirmationRequired(Refused):
    """A state-changing action needs an explicit yes (--yes in the CLI, a dialog in the TUI)."""


class AccessDenied(Refused):
    """The cluster refuses the action (RBAC); the message names verb, resource and namespace."""


class SecretExists(Refused):
    """The tenant Secret is already there; it is never overwritten."""


class MissingValue(Refused):
    """A required input (e.g. an S3 key) was not given."""


class PodNotReady(OpsError):
    """No Ready pod of the tenant's Nextcloud Deployment to run a command in."""
