"""Smoke checks for a tenant: is it really serving? Each check passes, warns, fails or is
skipped, with a message and its duration.

Cluster state (Application, Deployment, pods) comes from a FleetSnapshot's TenantState — the
same view the console shows, no extra GETs, judged by the same rules (fleet/health.py);
status.php, occ, the bucket, the Secret and the
TLS certificate are asked fresh, because a smoke check must not trust a cached probe.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.health import (
    clip,
    deployed_revision,
    live_pods,
    pods_ready,
    sync_busy,
    unready_pods,
)
from ncconsole.fleet.model import StatusPhpProbe, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord
from ncconsole.kube import revisions
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.writes import get_or_none, secret_path
from ncconsole.ops.errors import PodNotReady
from ncconsole.ops.occ import run_occ
from ncconsole.ops.secrets import SECRET_KEYS
from ncconsole.ops.tls_check import check_certificate
from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.settings import Settings

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
_RANK = {PASS: 0, SKIP: 1, WARN: 2, FAIL: 3}
_VERSION = re.compile(r"(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # pass | warn | fail | skip
    message: str
    duration: float


@dataclass
class SmokeReport:
    tenant: str
    checks: list[CheckResult] = field(default_factory=list)
    revision: str = ""  # the Application's revision when checked
    cluster: str = ""  # the API server checked against
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks)

    @property
    def status(self) -> str:
        """The worst status of any check."""
        return max((c.status for c in self.checks), key=_RANK.__getitem__, default=SKIP)

    @property
    def summary(self) -> str:
        """The failing (else warning) checks' messages, for a one-line reason."""
        worst = self.status
        return "; ".join(f"{c.name}: {c.message}" for c in self.checks if c.status == worst)

    def outcome(self, ignore: Iterable[str] = ()) -> SmokeOutcome:
        """What the record keeps: failed unless every counted check passed, warned or was
        skipped; `ignore` names checks that do not count (e.g. "argocd" right after a
        rollback)."""
        counted = [c for c in self.checks if c.name not in set(ignore)]
        failed = [c for c in counted if c.status == FAIL]
        warned = [c for c in counted if c.status == WARN]
        return SmokeOutcome(
            not failed,
            tuple(f"{c.name}: {c.message}" for c in failed),
            self.finished or self.started,
            self.revision,
            FAIL if failed else (WARN if warned else PASS),
            self.cluster,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "revision": self.revision,
            "status": self.status,
            "failed": self.failed,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "checks": [
                {
                    "name": c.name,
                    "status": c.status,
                    "message": c.message,
                    "duration": round(c.duration, 3),
                }
                for c in self.checks
            ],
        }


class SmokeChecker:
    """Runs the checks; one instance serves many tenants from many threads. Close it."""

    def __init__(self, conn: KubeConnection, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self.web = StatusPhpProber(settings.web)
        self.s3 = BucketProber(settings.s3)

    def close(self) -> None:
        self.web.close()
        self.s3.close()

    def check(self, tenant: TenantState) -> SmokeReport:
        report = SmokeReport(tenant.name, revision=_revision(tenant), cluster=self.conn.cluster)
        state: dict[str, Any] = {}

        def run(name: str, fn: Callable[[], tuple[str, str]]) -> None:
            started = time.perf_counter()
            try:
                status, message = fn()
            except NcConsoleError as err:
                status, message = FAIL, str(err)
            report.checks.append(CheckResult(name, status, message, time.perf_counter() - started))

        run("argocd", lambda: self._argocd(tenant))
        run("deployment", lambda: self._deployment(tenant))
        run("pods", lambda: self._pods(tenant))
        run("status.php", lambda: self._status_php(tenant, state))
        run("version", lambda: self._version(tenant, state))
        run("occ status", lambda: self._occ_status(tenant, state))
        run("secret", lambda: self._secret(tenant, state))
        run("bucket", lambda: self._bucket(tenant, state))
        run("tls", lambda: check_certificate(tenant.hostname, self.settings.web))
        report.finished = datetime.now(UTC)
        return report

    # -- cluster state from the snapshot ------------------------------------------------------
    def _argocd(self, t: TenantState) -> tuple[str, str]:
        app = t.app
        if app is None:
            return FAIL, f"no Application {t.app_name}"
        if app.comparison_error:
            return FAIL, f"ComparisonError: {clip(app.comparison_error)}"
        if app.operation_phase in ("Failed", "Error"):
            return FAIL, f"last sync {app.operation_phase}: {app.operation_message}"
        if app.health_status == "Progressing" or sync_busy(app):
            return WARN, f"{app.sync_status}, {app.health_status} (sync in progress)"
        if app.sync_status == "OutOfSync" and app.health_status == "Healthy":
            # A newer revision waits to be rolled out: not promoted yet, not broken.
            return WARN, "OutOfSync (a newer revision waits to be rolled out), Healthy"
        if app.sync_status != "Synced" or app.health_status != "Healthy":
            detail = f": {app.health_message}" if app.health_message else ""
            return FAIL, f"{app.sync_status}, {app.health_status}{detail}"
        return PASS, f"Synced, Healthy at {revisions.short(app.sync_revision)}"

    def _deployment(self, t: TenantState) -> tuple[str, str]:
        dep = t.deployment
        if dep is None:
            return FAIL, f"no Nextcloud Deployment in {t.namespace}"
        ready, desired = pods_ready(t.pods, dep)
        return (PASS if ready == desired else FAIL), f"{ready}/{desired} ready"

    def _pods(self, t: TenantState) -> tuple[str, str]:
        pods = live_pods(t.pods)
        if not pods:
            return FAIL, "no pods"
        bad = unready_pods(t.pods)
        if bad:
            return FAIL, ", ".join(
                f"{p.name} {p.reason or p.phase} ({p.restarts} restarts)" for p in bad[:3]
            )
        restarted = [p for p in pods if p.restarts]
        if restarted:
            return WARN, f"all Ready; {sum(p.restarts for p in restarted)} restarts in the past"
        return PASS, f"{len(pods)} Ready, no restarts"

    # -- asked fresh ------------------------------------------------------------------------
    def _status_php(self, t: TenantState, state: dict[str, Any]) -> tuple[str, str]:
        probe: StatusPhpProbe = self.web.probe(t.hostname)
        state["web"] = probe
        if probe.http_status != 200 or probe.installed is None:
            return FAIL, probe.error or "no answer"
        if not probe.ok:
            return FAIL, probe.error
        return PASS, f"200, installed, {probe.versionstring or probe.version}"

    def _version(self, t: TenantState, state: dict[str, Any]) -> tuple[str, str]:
        probe = state.get("web")
        image = t.deployment.image if t.deployment else ""
        deployed = _VERSION.search(image.rpartition(":")[2])
        if probe is None or probe.http_status != 200 or not probe.versionstring:
            return SKIP, "status.php gave no version"
        if not deployed:
            return SKIP, f"image {image or '?'} carries no version tag"
        if not probe.versionstring.startswith(deployed.group(1)):
            return FAIL, f"running {probe.versionstring}, image is {deployed.group(1)}"
        return PASS, f"{probe.versionstring} = image {deployed.group(1)}"

    def _occ_status(self, t: TenantState, state: dict[str, Any]) -> tuple[str, str]:
        try:
            run = run_occ(
                self.conn, self.settings, t.name, ["status", "--output=json"], auditor=None,
                timeout=min(self.settings.occ.timeout, 60.0),
            )  # fmt: skip
        except PodNotReady:
            return SKIP, "no Ready pod to run occ in"
        if run.exit_code != 0:
            return FAIL, f"occ status exit {run.exit_code}: {run.first_line}"
        try:
            occ = json.loads(run.stdout)
        except ValueError:
            return FAIL, f"occ status output is not JSON: {run.first_line}"
        problems = [
            word
            for word, bad in (
                ("not installed", occ.get("installed") is not True),
                ("maintenance mode", occ.get("maintenance") is True),
                ("needs DB upgrade", occ.get("needsDbUpgrade") is True),
            )
            if bad
        ]
        if problems:
            return FAIL, "occ says " + ", ".join(problems)
        web = state.get("web")
        if web is not None and web.http_status == 200 and web.installed is not None:
            theirs = (web.maintenance, web.needs_db_upgrade, web.versionstring)
            ours = (occ.get("maintenance"), occ.get("needsDbUpgrade"), occ.get("versionstring"))
            if theirs != ours:
                return FAIL, f"occ status disagrees with status.php ({ours} vs {theirs})"
        return PASS, f"installed, {occ.get('versionstring', '?')}, agrees with status.php"

    def _secret(self, t: TenantState, state: dict[str, Any]) -> tuple[str, str]:
        name = self.settings.secret.name
        try:
            secret = get_or_none(self.conn, secret_path(t.namespace, name))
        except ApiStatusError as err:
            if err.status == 403:
                return SKIP, f"forbidden to get secrets in namespace {t.namespace}"
            raise
        if secret is None:
            return FAIL, f"Secret {t.namespace}/{name} is missing"
        data = secret.get("data") or {}
        state["s3_keys"] = (_decode(data.get("s3-access-key")), _decode(data.get("s3-secret-key")))
        missing = [k for k in SECRET_KEYS if not data.get(k)]
        if missing:
            return FAIL, f"Secret {name} lacks {', '.join(missing)}"
        return PASS, f"all {len(SECRET_KEYS)} keys present"

    def _bucket(self, t: TenantState, state: dict[str, Any]) -> tuple[str, str]:
        if not self.settings.s3.endpoint:
            return SKIP, "no S3 endpoint configured (s3.endpoint)"
        access, secret = state.get("s3_keys") or ("", "")
        if not (access and secret):
            access, secret = self.settings.s3.access_key or "", self.settings.s3.secret_key or ""
        if not (access and secret):
            return SKIP, "no S3 keys (tenant Secret unreadable, no platform keys)"
        probe = self.s3.probe(t.bucket, access, secret)
        if probe.state != "ok":
            return FAIL, probe.error or probe.state
        count = "n/a" if probe.object_count is None else str(probe.object_count)
        return PASS, f"{t.bucket} reachable ({count} objects)"


def _revision(tenant: TenantState) -> str:
    """What the checks tested: the revision(s) the tenant last synced to (while OutOfSync,
    not what Git asks for)."""
    return deployed_revision(tenant.app)


def _decode(value: Any) -> str:
    try:
        return base64.b64decode(str(value or ""), validate=True).decode().strip()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def run_smoke_checks(
    conn: KubeConnection,
    settings: Settings,
    tenants: Sequence[TenantState],
    *,
    concurrency: int = 8,
    on_report: Callable[[SmokeReport], None] | None = None,
    record: SmokeRecord | None = None,
) -> list[SmokeReport]:
    """Check every tenant, `concurrency` at a time; reports in the order of `tenants`.
    With a `record`, each tenant's outcome is saved there at the end (also when the run is
    cut short: what finished is kept), in one write."""
    checker = SmokeChecker(conn, settings)
    outcomes: dict[str, SmokeOutcome] = {}

    def one(tenant: TenantState) -> SmokeReport:
        try:
            report = checker.check(tenant)
        except ApiUnreachable as err:
            report = SmokeReport(
                tenant.name,
                [CheckResult("api", FAIL, str(err), 0.0)],
                revision=_revision(tenant),
                cluster=conn.cluster,
            )
            report.finished = datetime.now(UTC)
        outcomes[report.tenant] = report.outcome()
        if on_report is not None:
            on_report(report)
        return report

    try:
        with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="smoke") as pool:
            return list(pool.map(one, tenants))
    finally:
        checker.close()
        if record is not None:
            record.save_many(outcomes)
