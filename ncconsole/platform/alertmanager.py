"""Alertmanager's API v2 over httpx: the alerts now firing, each mapped to a tenant by its labels
(or platform-wide), and the silences: list, create, expire.

`read_alerts` never raises (an unreachable Alertmanager is a reading with the reason); the
silence calls raise AlertmanagerError with one line, because they are actions the user asked
for and must hear about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.platform.model import Verdict, unreachable, worst
from ncconsole.platform.tenants import tenant_of_labels

SEVERITY_VERDICT = {
    "critical": Verdict.PROBLEM,
    "error": Verdict.PROBLEM,
    "warning": Verdict.WARNING,
}
SUMMARY_ANNOTATIONS = ("summary", "message", "description")


class AlertmanagerError(NcConsoleError):
    """Alertmanager refused or did not answer a silence request."""


@dataclass(frozen=True)
class LabelMapping:
    """How an alert's labels name its tenant (settings platform.alertmanager.*)."""

    tenant_labels: tuple[str, ...] = ("tenant",)
    namespace_labels: tuple[str, ...] = ("namespace",)
    namespace_prefix: str = "nc-"
    not_tenants: tuple[str, ...] = ()  # namespaces that are the platform's, not a tenant's

    def tenant_of(self, labels: dict[str, str]) -> str | None:
        return tenant_of_labels(
            labels,
            tenant_labels=self.tenant_labels,
            namespace_labels=self.namespace_labels,
            namespace_prefix=self.namespace_prefix,
            not_tenants=self.not_tenants,
        )


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def __str__(self) -> str:
        operator = (
            ("=~" if self.is_regex else "=") if self.is_equal else ("!~" if self.is_regex else "!=")
        )
        return f'{self.name}{operator}"{self.value}"'

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex,
                "isEqual": self.is_equal}  # fmt: skip


def tenant_matchers(tenant: str, mapping: LabelMapping) -> tuple[Matcher, ...]:
    """The matchers a tenant's silence uses: its namespace label when alerts are mapped by
    namespace (the usual case: every kube-prometheus alert carries it), else its tenant label.
    One silence matches one label set; a rule matching on both would need two silences."""
    if mapping.namespace_labels:
        return (Matcher(mapping.namespace_labels[0], f"{mapping.namespace_prefix}{tenant}"),)
    if mapping.tenant_labels:
        return (Matcher(mapping.tenant_labels[0], tenant),)
    raise AlertmanagerError(
        "no label maps alerts to tenants: set platform.alertmanager.namespace_labels or "
        "tenant_labels"
    )


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    summary: str
    since: datetime | None
    tenant: str | None  # None: platform-wide
    state: str  # active | suppressed (silenced or inhibited) | unprocessed
    labels: dict[str, str] = field(compare=False)
    silenced_by: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def firing(self) -> bool:
        """Active and not silenced or inhibited: someone should look."""
        return self.state != "suppressed"

    @property
    def verdict(self) -> Verdict:
        return (
            SEVERITY_VERDICT.get(self.severity.lower(), Verdict.OK) if self.firing else Verdict.OK
        )


@dataclass(frozen=True)
class Silence:
    id: str
    state: str  # active | pending | expired
    matchers: tuple[Matcher, ...]
    starts: datetime | None
    ends: datetime | None
    created_by: str
    comment: str
    tenant: str | None  # the tenant its equality matchers name, if any

    @property
    def matchers_text(self) -> str:
        return ", ".join(str(m) for m in self.matchers)


@dataclass(frozen=True)
class AlertsReading:
    verdict: Verdict
    reason: str = ""
    findings: tuple[str, ...] = ()
    via: str = ""
    alerts: tuple[Alert, ...] = ()
    silences: tuple[Silence, ...] = ()

    def of_tenant(self, tenant: str) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.tenant == tenant)

    @property
    def platform_alerts(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.tenant is None)

    def silences_of(self, tenant: str) -> tuple[Silence, ...]:
        return tuple(s for s in self.silences if s.tenant == tenant and s.state != "expired")


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_alert(raw: dict[str, Any], mapping: LabelMapping) -> Alert:
    labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
    annotations = raw.get("annotations") or {}
    status = raw.get("status") or {}
    summary = next((str(annotations[k]) for k in SUMMARY_ANNOTATIONS if annotations.get(k)), "")
    return Alert(
        name=labels.get("alertname", "?"),
        severity=labels.get("severity", ""),
        summary=summary,
        since=_time(raw.get("startsAt")),
        tenant=mapping.tenant_of(labels),
        state=str(status.get("state") or "active"),
        labels=labels,
        silenced_by=tuple(str(s) for s in status.get("silencedBy") or ()),
        fingerprint=str(raw.get("fingerprint") or ""),
    )


def parse_silence(raw: dict[str, Any], mapping: LabelMapping) -> Silence:
    matchers = tuple(
        Matcher(str(m.get("name")), str(m.get("value")), bool(m.get("isRegex")),
                m.get("isEqual", True) is not False)
        for m in raw.get("matchers") or ()
    )  # fmt: skip
    plain = {m.name: m.value for m in matchers if m.is_equal and not m.is_regex}
    return Silence(
        id=str(raw.get("id") or ""),
        state=str((raw.get("status") or {}).get("state") or ""),
        matchers=matchers,
        starts=_time(raw.get("startsAt")),
        ends=_time(raw.get("endsAt")),
        created_by=str(raw.get("createdBy") or ""),
        comment=str(raw.get("comment") or ""),
        tenant=mapping.tenant_of(plain),
    )


class AlertmanagerClient:
    """One Alertmanager (its base URL may carry a path prefix, e.g. behind an ingress)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        auth: tuple[str, str] | None = None,
        verify: bool | str = True,
        via: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.via = via or self.base_url
        import httpx  # here, not at import: the console starts ~30 ms and some MB lighter

        self._http = httpx.Client(
            base_url=self.base_url + "/api/v2", timeout=timeout, auth=auth, verify=verify
        )
        self._errors: type[Exception] = httpx.HTTPError

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AlertmanagerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except self._errors as err:
            raise AlertmanagerError(f"Alertmanager at {self.via}: {unreachable(err)}") from None
        if response.status_code >= 400:
            detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            raise AlertmanagerError(
                f"Alertmanager at {self.via} answered {response.status_code} to {method} "
                f"{path}{': ' + detail if detail else ''}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AlertmanagerError(f"Alertmanager at {self.via}: answer is not JSON") from None

    def read(self, mapping: LabelMapping) -> AlertsReading:
        """Every active alert (silenced ones marked) and the silences; never raises."""
        try:
            alerts = self._request("GET", "/alerts", params={"active": "true"}) or []
            silences = self._request("GET", "/silences") or []
        except AlertmanagerError as err:
            reason = str(err).split(": ", 1)[-1]
            return AlertsReading(Verdict.UNKNOWN, reason if reason.startswith("unreachable")
                                 else unreachable(err), via=self.via)  # fmt: skip
        parsed = sorted(
            (parse_alert(a, mapping) for a in alerts if isinstance(a, dict)),
            key=lambda a: (list(Verdict).index(a.verdict), a.tenant or "", a.name),
        )
        findings = tuple(
            f"{a.severity or 'alert'} {a.name} on {a.tenant or 'the platform'}"
            + (f": {a.summary}" if a.summary else "")
            for a in parsed
            if a.verdict in (Verdict.PROBLEM, Verdict.WARNING)
        )
        return AlertsReading(
            verdict=worst([Verdict.OK, *(a.verdict for a in parsed)]),
            findings=findings,
            via=self.via,
            alerts=tuple(parsed),
            silences=tuple(
                sorted(
                    (parse_silence(s, mapping) for s in silences if isinstance(s, dict)),
                    key=lambda s: (s.state != "active", s.ends or datetime.max.replace(tzinfo=UTC)),
                )
            ),
        )

    def silences(self, mapping: LabelMapping) -> list[Silence]:
        raw = self._request("GET", "/silences") or []
        return [parse_silence(s, mapping) for s in raw if isinstance(s, dict)]

    def silence(self, silence_id: str, mapping: LabelMapping) -> Silence:
        return parse_silence(self._request("GET", f"/silence/{silence_id}") or {}, mapping)

    def create_silence(
        self,
        matchers: tuple[Matcher, ...],
        *,
        starts: datetime,
        ends: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Create a silence; its id."""
        body = {
            "matchers": [m.as_json() for m in matchers],
            "startsAt": starts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "endsAt": ends.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "createdBy": created_by,
            "comment": comment,
        }
        answer = self._request("POST", "/silences", json=body) or {}
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not silence_id:
            raise AlertmanagerError(f"Alertmanager at {self.via} returned no silence id")
        return str(silence_id)

    def expire_silence(self, silence_id: str) -> None:
        self._request("DELETE", f"/silence/{silence_id}")
