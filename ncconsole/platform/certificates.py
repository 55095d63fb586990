"""The tenants' TLS certificates, judged: not Ready, expired, expiring within N days (a
setting), or failing to renew, with cert-manager's own message.

A certificate cert-manager cannot renew keeps serving until notAfter, so "Ready and expiring in
5 days" with a failure message is the early warning; once it expires every browser refuses
the tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ncconsole.kube.certificates import CertificateView
from ncconsole.platform.model import Verdict, worst


@dataclass(frozen=True)
class CertificateState:
    view: CertificateView
    tenant: str | None
    verdict: Verdict
    problem: str  # one line: why it is not OK ("" when it is)
    expires_in: timedelta | None


@dataclass(frozen=True)
class CertificatesReading:
    verdict: Verdict
    reason: str = ""
    findings: tuple[str, ...] = ()
    certificates: tuple[CertificateState, ...] = ()
    warning_days: int = 14

    def of_tenant(self, tenant: str) -> tuple[CertificateState, ...]:
        return tuple(c for c in self.certificates if c.tenant == tenant)

    def expiring_within(self, days: float) -> tuple[CertificateState, ...]:
        limit = timedelta(days=days)
        return tuple(
            c for c in self.certificates if c.expires_in is not None and c.expires_in <= limit
        )


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} d" if abs(days) >= 2 else f"{delta.total_seconds() / 3600:.0f} h"


def judge_certificate(
    view: CertificateView, tenant: str | None, now: datetime, warning_days: float
) -> CertificateState:
    expires_in = view.not_after - now if view.not_after else None
    failure = view.failure_message or (view.ready_message if view.ready is False else "")
    if expires_in is not None and expires_in <= timedelta(0):
        verdict, problem = Verdict.PROBLEM, f"expired {_days(-expires_in)} ago"
    elif view.ready is False:
        verdict, problem = Verdict.PROBLEM, f"not Ready ({view.ready_reason or 'no reason'})"
    elif view.ready is None:
        verdict, problem = Verdict.UNKNOWN, "no Ready condition yet"
    elif expires_in is not None and expires_in <= timedelta(days=warning_days):
        verdict, problem = Verdict.WARNING, f"expires in {_days(expires_in)}"
    elif view.failure_message:
        verdict, problem = Verdict.WARNING, "renewal failing"
    else:
        verdict, problem = Verdict.OK, ""
    if problem and failure:
        problem += f": {failure}"
    return CertificateState(view, tenant, verdict, problem, expires_in)


def judge_certificates(
    views: list[CertificateView],
    tenant_of_namespace: Callable[[str], str | None],
    now: datetime,
    *,
    warning_days: float = 14,
    reason: str = "",
) -> CertificatesReading:
    """Judge the certificates of tenant namespaces (others are not the console's business)."""
    if reason:
        return CertificatesReading(Verdict.UNKNOWN, reason, warning_days=int(warning_days))
    states = []
    for view in views:
        tenant = tenant_of_namespace(view.namespace)
        if tenant is None:
            continue
        states.append(judge_certificate(view, tenant, now, warning_days))
    states.sort(key=lambda s: (list(Verdict).index(s.verdict), s.tenant or "", s.view.name))
    findings = tuple(
        f"tenant {s.tenant}: certificate {s.view.name} {s.problem}"
        for s in states
        if s.verdict in (Verdict.PROBLEM, Verdict.WARNING, Verdict.UNKNOWN)
    )
    return CertificatesReading(
        verdict=worst([Verdict.OK, *(s.verdict for s in states)]),
        findings=findings,
        certificates=tuple(states),
        warning_days=int(warning_days),
    )
