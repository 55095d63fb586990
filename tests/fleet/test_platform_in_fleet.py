"""The shared platform in the fleet: a reading's findings about a tenant become its health word
and REASON in fleet/health.py, and the poller reads again and again without ever holding up
the fleet. (The same path against the real servers: tests/platform/test_fleet_platform.py.)"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from ncconsole.fleet import watches as kinds
from ncconsole.fleet.health import assess
from ncconsole.fleet.model import Health, KindState
from ncconsole.fleet.platform_poller import PlatformPoller
from ncconsole.kube.certificates import CertificateView
from ncconsole.kube.views import AppView, PodView
from ncconsole.kube.watch import KindStatus
from ncconsole.platform.alertmanager import Alert, AlertsReading
from ncconsole.platform.certificates import judge_certificates
from ncconsole.platform.model import Verdict
from ncconsole.platform.pgbouncer import PgBouncerReading, PoolStats
from ncconsole.platform.reading import PGBOUNCER_WAITING, PlatformReading

pytestmark = pytest.mark.timeout(30)
NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
LIVE = {kind: KindState(KindStatus.LIVE) for kind in kinds.FLEET_KINDS}
HEALTHY_APP = AppView("nc-a", "argocd", "1", {}, "Synced", "abc", "abc", "Healthy")


def pool(tenant: str, waiting: int) -> PoolStats:
    return PoolStats(
        f"nc_{tenant}", "nextcloud", tenant, 2 if waiting else 1, waiting, 2 if waiting else 0,
        0, 0, 12.5 if waiting else 0.0, "transaction", 2,
    )  # fmt: skip


def alert(tenant: str | None, name: str, severity: str, state: str = "active") -> Alert:
    return Alert(name, severity, f"{name} fired", NOW - timedelta(minutes=5), tenant, state, {})


def certificate(tenant: str, days: float) -> CertificateView:
    return CertificateView(
        namespace=f"nc-{tenant}", name=f"nextcloud-{tenant}-tls", ready=True,
        ready_reason="Ready", ready_message="", not_after=NOW + timedelta(days=days),
        renewal_time=None, last_failure_time=None, failure_message="", failed_attempts=0,
        dns_names=(f"{tenant}.example",), secret_name=f"nextcloud-{tenant}-tls",
        issuer="letsencrypt",
    )  # fmt: skip


def reading() -> PlatformReading:
    return PlatformReading(
        pgbouncer=PgBouncerReading(Verdict.PROBLEM, pools=(pool("a", 3), pool("b", 0))),
        alerts=AlertsReading(
            Verdict.PROBLEM,
            alerts=(
                alert("a", "NextcloudCronStale", "warning"),
                alert("c", "NextcloudDown", "critical"),
                alert("b", "NextcloudDown", "critical", state="suppressed"),
                alert(None, "RedisMemoryHigh", "warning"),
            ),
        ),
        certificates=judge_certificates(
            [certificate("b", 5), certificate("c", 60)],
            lambda namespace: namespace.removeprefix("nc-"),
            NOW,
        ),
        read_at=NOW,
    )


def test_the_platforms_findings_are_the_tenants_reason_worst_first():
    platform = reading()
    a, b, c = (platform.of_tenant(name) for name in "abc")
    assert a.problems == [f"{PGBOUNCER_WAITING} (3 waiting)", "alert NextcloudCronStale (warning)"]
    # A silenced alert is known (the detail shows it) but is nobody's problem.
    assert [x.name for x in b.alerts] == ["NextcloudDown"] and b.firing == ()
    assert b.problems == ["certificate expires in 5 d"]
    assert c.problems == ["alert NextcloudDown (critical)"]
    assert platform.of_tenant("nobody").problems == []
    assert platform.of_tenant("nobody").alerts_known

    def judged(name: str) -> tuple[Health, str]:
        return assess(
            app=HEALTHY_APP, deployment=None, pods=(), web=None, s3=None, drift=(),
            kind_states=LIVE, platform=platform.of_tenant(name),
        )  # fmt: skip

    # Queued at PgBouncer hurts now; the warning alert is left out at that level.
    assert judged("a") == (Health.DEGRADED, f"{PGBOUNCER_WAITING} (3 waiting)")
    # An expiring certificate is said, but does not make a working tenant unhealthy.
    assert judged("b") == (Health.HEALTHY, "certificate expires in 5 d")
    assert judged("c") == (Health.DEGRADED, "alert NextcloudDown (critical)")
    assert judged("nobody") == (Health.HEALTHY, "")


def test_the_platform_cause_comes_before_the_crash_loop_it_causes():
    crashing = PodView(
        "nc-a", "nextcloud-a-0", "Running", False, 7, NOW, "w", "nextcloud:30",
        reason="CrashLoopBackOff",
    )  # fmt: skip
    health, reason = assess(
        app=HEALTHY_APP, deployment=None, pods=(crashing,), web=None, s3=None, drift=(),
        kind_states=LIVE, platform=reading().of_tenant("a"),
    )  # fmt: skip
    assert health is Health.DEGRADED
    assert reason.startswith(f"{PGBOUNCER_WAITING} (3 waiting)")


def test_a_platform_warning_never_makes_an_unobserved_tenant_look_healthy():
    health, reason = assess(
        app=None, deployment=None, pods=(), web=None, s3=None, drift=(), kind_states=LIVE,
        platform=reading().of_tenant("b"),
    )  # fmt: skip
    assert (health, reason) == (Health.UNKNOWN, "nothing observed")


def test_alerts_not_read_are_unknown_not_none():
    unread = PlatformReading(alerts=AlertsReading(Verdict.UNKNOWN, "unreachable: refused"))
    assert not unread.of_tenant("a").alerts_known
    assert unread.of_tenant("a").alerts_reason == "unreachable: refused"
    assert PlatformReading().of_tenant("a").alerts_reason == "not read"


def test_the_poller_reads_again_after_each_reading_and_at_once_when_asked():
    readings: list[PlatformReading] = []
    got = threading.Event()

    def sink(value: PlatformReading) -> None:
        readings.append(value)
        got.set()

    poller = PlatformPoller(lambda: PlatformReading(read_at=datetime.now(UTC)), sink, 3600)
    poller.start()
    try:
        assert got.wait(10)
        got.clear()
        poller.read_now()  # an hour early
        assert got.wait(10)
        assert len(readings) == 2
    finally:
        poller.stop()


def test_a_hanging_reading_holds_up_nothing_and_a_failing_one_is_unknown():
    release = threading.Event()
    calls = []

    def read() -> PlatformReading:
        calls.append(time.monotonic())
        if len(calls) == 1:
            release.wait(20)  # a component that hangs (each has its deadline in ops/)
        raise RuntimeError("reader bug")

    readings: list[PlatformReading] = []
    got = threading.Event()
    poller = PlatformPoller(read, lambda r: (readings.append(r), got.set()), 0.05)
    poller.start()
    try:
        time.sleep(0.2)
        assert readings == [] and len(calls) == 1  # no second reading stacked on the first
        release.set()
        assert got.wait(10)
        assert readings[0].verdict is Verdict.UNKNOWN
        assert "reader bug" in readings[0].pgbouncer.reason
    finally:
        poller.stop()
