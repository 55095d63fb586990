"""cert-manager `Certificate` objects (cert-manager.io/v1), read cluster-wide and parsed into a
slim view: Ready, notAfter, renewalTime and why the last issuance failed.

cert-manager reports a failed issuance on the `Issuing` condition (status False, reason
Failed) and in `lastFailureTime`/`failedIssuanceAttempts`; Ready says whether the Secret holds
a valid certificate for the current spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.views import parse_time

CERTIFICATES_PATH = "/apis/cert-manager.io/v1/certificates"


@dataclass(frozen=True)
class CertificateView:
    namespace: str
    name: str
    ready: bool | None  # None: no Ready condition yet
    ready_reason: str
    ready_message: str
    not_after: datetime | None
    renewal_time: datetime | None
    last_failure_time: datetime | None
    failure_message: str  # the Issuing condition's message when issuance failed
    failed_attempts: int
    dns_names: tuple[str, ...]
    secret_name: str
    issuer: str


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    for condition in status.get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return {}


def parse_certificate(obj: dict[str, Any]) -> CertificateView:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    ready = _condition(status, "Ready")
    issuing = _condition(status, "Issuing")
    failed = issuing.get("status") == "False" and issuing.get("reason") == "Failed"
    issuer = spec.get("issuerRef") or {}
    attempts = status.get("failedIssuanceAttempts")
    return CertificateView(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        ready={"True": True, "False": False}.get(str(ready.get("status"))),
        ready_reason=str(ready.get("reason") or ""),
        ready_message=str(ready.get("message") or ""),
        not_after=parse_time(status.get("notAfter")),
        renewal_time=parse_time(status.get("renewalTime")),
        last_failure_time=parse_time(status.get("lastFailureTime")),
        failure_message=str(issuing.get("message") or "") if failed else "",
        failed_attempts=attempts if isinstance(attempts, int) else 0,
        dns_names=tuple(str(n) for n in spec.get("dnsNames") or ()),
        secret_name=str(spec.get("secretName") or ""),
        issuer=f"{issuer.get('kind') or 'Issuer'}/{issuer.get('name') or '?'}",
    )


def list_certificates(conn: KubeConnection) -> tuple[list[CertificateView], str]:
    """Every Certificate in the cluster, and "" — or [] and why they could not be read."""
    try:
        data = conn.get_json(CERTIFICATES_PATH)
    except ApiStatusError as err:
        if err.status == 404:
            return [], "cert-manager is not installed (no certificates.cert-manager.io API)"
        if err.status == 403:
            return [], "forbidden: cannot list certificates.cert-manager.io cluster-wide"
        return [], f"cannot list certificates: {err}"
    except ApiUnreachable as err:
        return [], f"unreachable: {err}"
    items = [i for i in data.get("items") or () if isinstance(i, dict)]
    return [parse_certificate(item) for item in items], ""
