"""cert-manager Certificates through the simulator: an expiring, a failed and an expired one
are found on their tenants with cert-manager's message; `ncconsole certs` lists them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sim_platform import console_connection, run_cli, simulator

from ncconsole.kube.certificates import CertificateView
from ncconsole.ops.platform import read_platform
from ncconsole.platform.certificates import judge_certificate
from ncconsole.platform.model import Verdict

TENANTS = [
    {"name": "fine", "wave": 0},
    {"name": "soon", "wave": 1, "faults": {"certificate_expires_in": 5}},
    {"name": "failing", "wave": 1, "faults": {"certificate_failing": True}},
    {"name": "lapsed", "wave": 1, "faults": {"certificate_expires_in": -2}},
]


def test_expiring_failed_and_expired_certificates_are_found_on_their_tenants(tmp_path, monkeypatch):
    with simulator(tmp_path / "sim", TENANTS) as sim:
        settings, conn = console_connection(sim, monkeypatch)
        reading = read_platform(settings, conn, components=("certificates",)).certificates
        table = run_cli(sim, "certs")
        expiring = run_cli(sim, "certs", "--expiring", "14d", "--format", "json")
        far = run_cli(sim, "certs", "--expiring", "1d", "--format", "json")
    by_tenant = {state.tenant: state for state in reading.certificates}
    assert set(by_tenant) == {"fine", "soon", "failing", "lapsed"}
    assert by_tenant["fine"].verdict is Verdict.OK and by_tenant["fine"].problem == ""
    soon = by_tenant["soon"]
    assert soon.verdict is Verdict.WARNING and soon.problem.startswith("expires in 5 d")
    failing = by_tenant["failing"]
    assert failing.verdict is Verdict.PROBLEM
    assert failing.problem.startswith("not Ready (DoesNotExist): The certificate request has")
    assert "rateLimited" in failing.view.failure_message and failing.view.failed_attempts == 3
    lapsed = by_tenant["lapsed"]
    assert lapsed.verdict is Verdict.PROBLEM and lapsed.problem.startswith("expired 2 d ago")
    assert reading.verdict is Verdict.PROBLEM
    assert "tenant soon: certificate nextcloud-soon-tls expires in 5 d" in reading.findings

    assert table.returncode == 1, table.stderr
    assert "nextcloud-fine-tls" in table.stdout and "expires in 5 d" in table.stdout
    assert expiring.returncode == 1
    records = json.loads(expiring.stdout)["certificates"]
    assert {r["tenant"] for r in records} == {"soon", "failing", "lapsed"}
    soon_record = next(r for r in records if r["tenant"] == "soon")
    assert 4.9 < soon_record["expires_in_days"] <= 5 and soon_record["ready"] is True
    # Within a 1-day window the 5-day certificate is fine; the broken ones stay listed.
    assert {r["tenant"] for r in json.loads(far.stdout)["certificates"]} == {"failing", "lapsed"}


def _view(**changes: object) -> CertificateView:
    base = dict(
        namespace="nc-a", name="c", ready=True, ready_reason="Ready", ready_message="",
        not_after=None, renewal_time=None, last_failure_time=None, failure_message="",
        failed_attempts=0, dns_names=(), secret_name="c", issuer="ClusterIssuer/x",
    )  # fmt: skip
    return CertificateView(**{**base, **changes})  # type: ignore[arg-type]


def test_a_certificate_without_a_ready_condition_is_unknown_and_failing_renewal_warns():
    now = datetime.now(UTC)
    assert judge_certificate(_view(ready=None), "a", now, 14).verdict is Verdict.UNKNOWN
    renewing = judge_certificate(
        _view(not_after=now + timedelta(days=40), failure_message="order errored"), "a", now, 14
    )
    assert renewing.verdict is Verdict.WARNING
    assert renewing.problem == "renewal failing: order errored"
