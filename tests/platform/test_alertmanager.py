"""Alerts and silences against a real Alertmanager: posted alerts land on the right tenants (by
namespace or tenant label) or on the platform; a silence created through ops/ and the CLI is
read back from Alertmanager, silences the tenant's alerts, and expires."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from ncconsole.ops.audit import Auditor, read_audit
from ncconsole.ops.errors import ReadOnlyRefused, Refused
from ncconsole.ops.platform import label_mapping, read_platform
from ncconsole.ops.silences import (
    create_tenant_silence,
    expire_silence,
    list_silences,
    plan_tenant_silence,
)
from ncconsole.platform.alertmanager import AlertmanagerClient
from ncconsole.platform.model import Verdict
from ncconsole.settings import Settings

pytestmark = pytest.mark.timeout(300)


_posted: list[tuple[str, dict]] = []


def post_alerts(url: str, *alerts: dict, ends_in: timedelta = timedelta(minutes=30)) -> None:
    """Send alerts as Prometheus does; an end in the past resolves them."""
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} fired"},
            "startsAt": (now - timedelta(minutes=3)).isoformat(),
            "endsAt": (now + ends_in).isoformat(),
        }
        for labels in alerts
    ]
    httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()
    _posted.extend((url, labels) for labels in alerts)


@pytest.fixture(autouse=True)
def _resolve_posted_alerts():
    """The Alertmanager is the session's: resolve this test's alerts for the tests after it."""
    yield
    while _posted:
        url, labels = _posted.pop()
        post_alerts(url, labels, ends_in=-timedelta(seconds=1))
        _posted.pop()


def settings_for(platform, **overrides) -> Settings:
    return Settings(
        platform={
            "alertmanager": {"url": platform.alertmanager_url},
            "pgbouncer": {"service": None},
            "redis": {"service": None},
        },
        **overrides,
    )


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def test_alerts_are_mapped_to_tenants_by_namespace_or_tenant_label(real_platform):
    alpha, bravo = unique("alpha"), unique("bravo")
    post_alerts(
        real_platform.alertmanager_url,
        {"alertname": "NextcloudDown", "namespace": f"nc-{alpha}", "severity": "critical"},
        {"alertname": "NextcloudSlow", "tenant": bravo, "severity": "warning"},
        {"alertname": "PgBouncerSaturated", "namespace": "nc-platform", "severity": "critical",
         "run": alpha},
        {"alertname": "Watchdog", "severity": "none", "run": alpha},
    )  # fmt: skip
    reading = read_platform(settings_for(real_platform), None, components=("alerts",)).alerts
    mine = [a for a in reading.alerts if alpha in (a.tenant, a.labels.get("run"))]
    assert {(a.name, a.tenant) for a in mine} == {
        ("NextcloudDown", alpha),
        ("PgBouncerSaturated", None),  # the platform namespace is nobody's tenant
        ("Watchdog", None),
    }
    [down] = reading.of_tenant(alpha)
    assert down.firing and down.severity == "critical" and down.summary == "NextcloudDown fired"
    assert down.since is not None and down.since < datetime.now(UTC)
    assert [a.name for a in reading.of_tenant(bravo)] == ["NextcloudSlow"]
    assert reading.verdict is Verdict.PROBLEM
    assert f"critical NextcloudDown on {alpha}: NextcloudDown fired" in reading.findings
    watchdog = next(a for a in mine if a.name == "Watchdog")
    assert watchdog.verdict is Verdict.OK  # severity none: informational, not a problem


def test_a_tenant_silence_is_created_read_back_silences_its_alerts_and_expires(
    real_platform, tmp_path
):
    tenant = unique("gamma")
    settings = settings_for(real_platform)
    post_alerts(
        real_platform.alertmanager_url,
        {"alertname": "NextcloudDown", "namespace": f"nc-{tenant}", "severity": "critical"},
    )
    auditor = Auditor(settings, None, path=tmp_path / "audit.jsonl")
    plan = plan_tenant_silence(settings, tenant, timedelta(hours=2), "upgrade", "ncconsole:test")
    assert plan.matchers_text == f'namespace="nc-{tenant}"'
    silence_id = create_tenant_silence(settings, None, plan, auditor=auditor)

    with AlertmanagerClient(real_platform.alertmanager_url) as client:
        stored = client.silence(silence_id, label_mapping(settings))
    assert (stored.state, stored.tenant, stored.comment, stored.created_by) == (
        "active", tenant, "upgrade", "ncconsole:test",
    )  # fmt: skip
    # Alertmanager starts a silence when it receives it; the end is ours, to the millisecond.
    assert stored.ends is not None and abs(stored.ends - plan.ends) < timedelta(milliseconds=1)
    [listed] = list_silences(settings, None, tenant=tenant)
    assert listed.id == silence_id

    reading = read_platform(settings, None, components=("alerts",)).alerts
    [alert] = reading.of_tenant(tenant)
    assert not alert.firing and alert.silenced_by == (silence_id,)
    assert reading.silences_of(tenant)[0].id == silence_id

    expire_silence(settings, None, silence_id, auditor=auditor)
    with AlertmanagerClient(real_platform.alertmanager_url) as client:
        assert client.silence(silence_id, label_mapping(settings)).state == "expired"
    assert list_silences(settings, None, tenant=tenant) == []
    with pytest.raises(Refused, match="already expired"):
        expire_silence(settings, None, silence_id, auditor=auditor)

    trail = read_audit(tmp_path / "audit.jsonl")
    assert [(e["action"], e["result"]) for e in trail] == [
        ("silence.create", "ok"), ("silence.expire", "ok"), ("silence.expire", "refused"),
    ]  # fmt: skip
    assert trail[0]["target"] == f"tenant {tenant}" and silence_id in trail[0]["message"]


def test_read_only_refuses_a_silence_and_creates_nothing(real_platform, tmp_path):
    tenant = unique("delta")
    settings = settings_for(real_platform, read_only=True)
    auditor = Auditor(settings, None, path=tmp_path / "audit.jsonl")
    plan = plan_tenant_silence(settings, tenant, timedelta(hours=1), "no", "ncconsole:test")
    with pytest.raises(ReadOnlyRefused):
        create_tenant_silence(settings, None, plan, auditor=auditor)
    assert list_silences(settings, None, tenant=tenant, include_expired=True) == []
    assert read_audit(tmp_path / "audit.jsonl")[0]["result"] == "refused"


def _cli(args: list[str], config: Path, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NCCONSOLE_CONFIG": str(config), "XDG_STATE_HOME": str(state)}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_silence_commands_show_matchers_first_and_need_yes_off_a_terminal(
    real_platform, tmp_path
):
    tenant = unique("echo")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"platform": {"alertmanager": {
        "url": real_platform.alertmanager_url}}}))  # fmt: skip
    state = tmp_path / "state"
    args = ["silence", tenant, "--for", "90m", "--comment", "disk swap"]

    unconfirmed = _cli(args, config, state)
    assert unconfirmed.returncode == 1
    assert f'matchers namespace="nc-{tenant}"' in unconfirmed.stdout
    assert "pass --yes" in unconfirmed.stderr

    created = _cli([*args, "--yes", "--format", "json"], config, state)
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert record["tenant"] == tenant and record["matchers"] == f'namespace="nc-{tenant}"'

    listed = _cli(["silence", "list", "--tenant", tenant, "--format", "json"], config, state)
    assert [s["id"] for s in json.loads(listed.stdout)] == [record["id"]]
    assert json.loads(listed.stdout)[0]["comment"] == "disk swap"

    refused = _cli(["silence", "expire", record["id"], "--read-only"], config, state)
    assert refused.returncode == 2 and "read-only mode" in refused.stderr

    expired = _cli(["silence", "expire", record["id"], "--yes"], config, state)
    assert expired.returncode == 0, expired.stderr
    assert f"Expired silence {record['id']}" in expired.stdout
    gone = _cli(["silence", "list", "--tenant", tenant, "--format", "json"], config, state)
    assert json.loads(gone.stdout) == []
    audit = _cli(["audit", "--format", "json"], config, state)
    assert [e["action"] for e in json.loads(audit.stdout)] == [
        "silence.create", "silence.expire", "silence.expire",
    ]  # fmt: skip


def test_an_unreachable_alertmanager_is_unknown_and_a_silence_says_why(tmp_path):
    settings = Settings(platform={"alertmanager": {"url": "http://127.0.0.1:1", "timeout": 2}})
    reading = read_platform(settings, None, components=("alerts",)).alerts
    assert reading.verdict is Verdict.UNKNOWN and reading.reason.startswith("unreachable: ")
    plan = plan_tenant_silence(settings, "zulu", timedelta(hours=1), "x", "ncconsole:test")
    auditor = Auditor(settings, None, path=tmp_path / "audit.jsonl")
    with pytest.raises(Exception, match=r"Alertmanager at http://127\.0\.0\.1:1: unreachable"):
        create_tenant_silence(settings, None, plan, auditor=auditor)
