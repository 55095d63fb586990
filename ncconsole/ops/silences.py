"""Silence a tenant's alerts in Alertmanager, list silences, expire one: audited actions
(an audit line, and an Event in the tenant's namespace so colleagues see who silenced it),
refused in read-only mode. The matchers are planned first so they can be shown before the
silence is created."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ncconsole.durations import DurationRange
from ncconsole.kube.connection import KubeConnection
from ncconsole.ops.audit import Auditor
from ncconsole.ops.errors import MissingValue, OpsError, Refused
from ncconsole.ops.guard import require_writable
from ncconsole.ops.platform import alertmanager_client, label_mapping
from ncconsole.ops.platform_access import ComponentUnreachable
from ncconsole.platform.alertmanager import AlertmanagerError, Matcher, Silence, tenant_matchers
from ncconsole.settings import Settings

MAX_SILENCE = timedelta(days=31)
# What `silence --for` and the console's silence dialog accept: a minute to a month.
SILENCE_LENGTH = DurationRange(60, MAX_SILENCE.total_seconds())
_TENANT = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class SilencePlan:
    """The silence about to be created, shown to the user before it is."""

    tenant: str
    matchers: tuple[Matcher, ...]
    starts: datetime
    ends: datetime
    comment: str
    created_by: str

    @property
    def matchers_text(self) -> str:
        return ", ".join(str(m) for m in self.matchers)


def plan_tenant_silence(
    settings: Settings,
    tenant: str,
    duration: timedelta,
    comment: str,
    created_by: str,
    now: datetime | None = None,
) -> SilencePlan:
    if not _TENANT.match(tenant):
        raise MissingValue(f"tenant '{tenant}': not a tenant name (a DNS label like mijn-tenant)")
    if not comment.strip():
        raise MissingValue('a silence needs a comment saying why (--comment "...")')
    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise Refused(f"silence length {duration}: give more than 0 and at most 31 days")
    starts = now or datetime.now(UTC)
    try:
        matchers = tenant_matchers(tenant, label_mapping(settings))
    except AlertmanagerError as err:
        raise MissingValue(str(err)) from None
    return SilencePlan(tenant, matchers, starts, starts + duration, comment.strip(), created_by)


def silence_author(auditor: Auditor) -> str:
    who = auditor.who()
    user = who["cluster_user"] or who["os_user"]
    return f"ncconsole:{who['os_user']}" + (f" ({user})" if user != who["os_user"] else "")


def _unreachable(err: ComponentUnreachable) -> OpsError:
    if str(err) == "not configured":
        return Refused(
            "Alertmanager is not configured: set platform.alertmanager.url, or .service "
            "(and .namespace) for a port-forward"
        )
    return OpsError(f"Alertmanager: {err}")


def create_tenant_silence(
    settings: Settings, conn: KubeConnection | None, plan: SilencePlan, *, auditor: Auditor
) -> str:
    """Create the planned silence; its id."""
    namespace = settings.namespace_for(plan.tenant)
    args = {"matchers": plan.matchers_text, "ends": plan.ends.isoformat(), "comment": plan.comment}
    with auditor.action(
        "silence.create", f"tenant {plan.tenant}", args,
        namespace=namespace, reason="NcconsoleAlertsSilenced",
    ) as act:  # fmt: skip
        require_writable(settings, f"silence the alerts of tenant {plan.tenant}")
        try:
            with alertmanager_client(settings, conn) as (client, _):
                silence_id = client.create_silence(
                    plan.matchers,
                    starts=plan.starts,
                    ends=plan.ends,
                    created_by=plan.created_by,
                    comment=plan.comment,
                )
        except ComponentUnreachable as err:
            raise _unreachable(err) from None
        except AlertmanagerError as err:
            raise OpsError(str(err)) from None
        act.message = (
            f"silence {silence_id} ({plan.matchers_text}) until {plan.ends:%Y-%m-%d %H:%M} UTC"
        )
        return silence_id


def list_silences(
    settings: Settings,
    conn: KubeConnection | None,
    *,
    tenant: str | None = None,
    include_expired: bool = False,
) -> list[Silence]:
    """Silences, active and pending first (expired ones only when asked)."""
    try:
        with alertmanager_client(settings, conn) as (client, _):
            silences = client.silences(label_mapping(settings))
    except ComponentUnreachable as err:
        raise _unreachable(err) from None
    except AlertmanagerError as err:
        raise OpsError(str(err)) from None
    order = {"active": 0, "pending": 1, "expired": 2}
    return sorted(
        (
            s
            for s in silences
            if (include_expired or s.state != "expired") and tenant in (None, s.tenant)
        ),
        key=lambda s: (order.get(s.state, 3), s.ends or datetime.max.replace(tzinfo=UTC)),
    )


def expire_silence(
    settings: Settings, conn: KubeConnection | None, silence_id: str, *, auditor: Auditor
) -> Silence:
    """Expire the silence now; the silence as it was."""
    mapping = label_mapping(settings)
    with auditor.action(
        "silence.expire", f"silence {silence_id}", {"id": silence_id},
        reason="NcconsoleSilenceExpired",
    ) as act:  # fmt: skip
        require_writable(settings, f"expire silence {silence_id}")
        try:
            with alertmanager_client(settings, conn) as (client, _):
                silence = client.silence(silence_id, mapping)
                if silence.state == "expired":
                    raise Refused(f"silence {silence_id} has already expired")
                client.expire_silence(silence_id)
        except ComponentUnreachable as err:
            raise _unreachable(err) from None
        except AlertmanagerError as err:
            if " 404 " in str(err) or " 422 " in str(err):
                raise Refused(
                    f"silence {silence_id} not found; `ncconsole silence list` shows the ids"
                ) from None
            raise OpsError(str(err)) from None
        if silence.tenant:
            act.namespace = settings.namespace_for(silence.tenant)
            act.target = f"tenant {silence.tenant}"
        act.message = f"silence {silence_id} ({silence.matchers_text}) expired"
        return silence
