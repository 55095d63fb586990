"""The console's writes against a real apiserver: Secrets, the audit Event, the promotion Lease,
occ through real exec (apiserver -> kwok's kubelet API -> the simulated occ), and kubectl."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from ncconsole.kube.connection import ApiStatusError
from ncconsole.kube.events import record_event
from ncconsole.kube.lease import LeaseHeld, PromotionLease
from ncconsole.ops.audit import Auditor, read_audit
from ncconsole.ops.errors import AccessDenied, Refused, SecretExists
from ncconsole.ops.occ import OccRun, run_occ, run_occ_fleet
from ncconsole.ops.secret_rotation import rotate_secret_keys
from ncconsole.ops.secrets import SecretRequest, create_tenant_secret
from tests.realk8s.cluster import RealCluster, wait_until

KEYS = {"s3_access_key": "AKIAREALK8S", "s3_secret_key": "real-k8s-secret-value"}


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NCCONSOLE_CONFIG", raising=False)


@pytest.fixture(scope="module")
def tenant(real_cluster: RealCluster):
    spec = real_cluster.add_tenant("rk-ops", 0, replicas=1)
    real_cluster.wait_ready(spec)
    return spec


def decoded(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def secret_of(real_cluster: RealCluster, namespace: str) -> dict | None:
    try:
        return real_cluster.get(f"/api/v1/namespaces/{namespace}/secrets/nextcloud-secrets")
    except ApiStatusError as err:
        if err.status == 404:
            return None
        raise


def test_secret_dry_run_create_refusal_and_rotation(real_cluster, user="engineer") -> None:
    real_cluster.add_tenant("rk-secrets", 0, replicas=0)
    ns = "nc-rk-secrets"
    real_cluster.kubectl("delete", "secret", "-n", ns, "nextcloud-secrets", "--ignore-not-found")
    settings = real_cluster.settings(user)
    conn = real_cluster.connection(user)
    auditor = Auditor(settings, conn)
    # Dry run: the real server answers with the object it would store, and stores nothing.
    dry = create_tenant_secret(
        conn, settings, SecretRequest("rk-secrets", dry_run=True, **KEYS), auditor=auditor
    )
    assert dry.dry_run and dry.masked_object["metadata"].get("uid")
    assert set(dry.masked_object["data"].values()) == {"********"}
    assert secret_of(real_cluster, ns) is None
    created = create_tenant_secret(
        conn, settings, SecretRequest("rk-secrets", **KEYS), auditor=auditor
    )
    assert not created.dry_run
    before = decoded(secret_of(real_cluster, ns))
    assert before["s3-secret-key"] == "real-k8s-secret-value"
    with pytest.raises(SecretExists):
        create_tenant_secret(conn, settings, SecretRequest("rk-secrets", **KEYS), auditor=auditor)
    # The database role's password is refused unless the server already has the new one.
    with pytest.raises(Refused, match="--i-have-changed-the-server"):
        rotate_secret_keys(conn, settings, "rk-secrets", ["db-password"], auditor=auditor)
    assert decoded(secret_of(real_cluster, ns)) == before
    rotate_secret_keys(
        conn, settings, "rk-secrets", ["db-password"], auditor=auditor,
        given={"db-password": "changed-on-the-server"}, server_changed=True,
    )  # fmt: skip
    after = decoded(secret_of(real_cluster, ns))
    assert after["db-password"] == "changed-on-the-server"
    assert {k: v for k, v in after.items() if k != "db-password"} == {
        k: v for k, v in before.items() if k != "db-password"
    }
    lines = read_audit()
    assert [(line["action"], line["result"]) for line in lines] == [
        ("secret.create", "dry-run"), ("secret.create", "ok"), ("secret.create", "refused"),
        ("secret.rotate", "refused"), ("secret.rotate", "ok"),
    ]  # fmt: skip
    assert "real-k8s-secret-value" not in json.dumps(lines)


def test_viewer_may_not_read_or_write_secrets(real_cluster, tenant) -> None:
    settings = real_cluster.settings("viewer")
    conn = real_cluster.connection("viewer")
    with pytest.raises(AccessDenied) as err:
        create_tenant_secret(
            conn, settings, SecretRequest("rk-ops", **KEYS), auditor=Auditor(settings, conn)
        )
    assert "may not create secrets in namespace nc-rk-ops" in str(err.value)
    with pytest.raises(ApiStatusError) as denied:
        conn.get_json("/api/v1/namespaces/nc-rk-ops/secrets")
    assert denied.value.status == 403  # the built-in `view` role has no Secrets


def test_the_audit_event_is_accepted_by_the_real_apiserver(real_cluster, tenant) -> None:
    """Issue 11: record_event names involvedObject.namespace, as legacyValidateEvent
    (pkg/apis/core/validation/events.go) demands of an Event outside `default`."""
    conn = real_cluster.connection("admin")
    event = record_event(conn, "nc-rk-ops", reason="NcconsoleTest", message="real event")
    assert event["involvedObject"]["kind"] == "Namespace"
    assert event["involvedObject"]["namespace"] == "nc-rk-ops"


def test_an_event_in_a_tenant_namespace_without_involved_namespace_gets_the_real_422(
    real_cluster, tenant
) -> None:
    conn = real_cluster.connection("admin")
    body = {
        "metadata": {"name": "rk-audit-shape", "namespace": "nc-rk-ops"},
        "involvedObject": {"kind": "Namespace", "name": "nc-rk-ops", "apiVersion": "v1"},
        "reason": "NcconsoleTest", "message": "m", "type": "Normal",
        "source": {"component": "ncconsole"},
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    with pytest.raises(ApiStatusError) as err:
        conn.request_json("POST", "/api/v1/namespaces/nc-rk-ops/events", body=body)
    assert err.value.status == 422
    assert 'involvedObject.namespace: Invalid value: "": does not match event.namespace' in (
        err.value.message
    )


def test_the_audit_event_with_involved_namespace_is_accepted(real_cluster, tenant) -> None:
    # The shape issue 11's fix sends: the namespace named in involvedObject as well.
    event = record_event(
        real_cluster.connection("admin"),
        "nc-rk-ops",
        reason="NcconsoleTest",
        message="about a pod",
        involved_kind="Pod",
        involved_name="nextcloud-x",
    )
    assert event["involvedObject"]["namespace"] == "nc-rk-ops"


def test_two_consoles_race_for_the_promotion_lease(real_cluster) -> None:
    first = PromotionLease(
        real_cluster.connection("engineer"), "argocd", holder="one@a", duration=5
    )
    second = PromotionLease(real_cluster.connection("admin"), "argocd", holder="two@b", duration=5)
    real_cluster.kubectl("delete", "lease", "-n", "argocd", first.name, "--ignore-not-found")
    first.acquire()
    try:
        with pytest.raises(LeaseHeld) as held:
            second.acquire()
        assert held.value.holder == "one@a"
        assert first.renew()
        stored = real_cluster.get(
            f"/apis/coordination.k8s.io/v1/namespaces/argocd/leases/{first.name}"
        )
        # The real server keeps MicroTime with microseconds and the duration as sent.
        assert stored["spec"]["leaseDurationSeconds"] == 5
        assert stored["spec"]["renewTime"].count(".") == 1
    finally:
        first.release()
    second.acquire()  # released: free at once, no waiting for expiry
    try:
        assert not first.renew() and first.lost.is_set()
    finally:
        second.release()


def test_a_stale_lease_write_is_a_real_409(real_cluster) -> None:
    lease = PromotionLease(real_cluster.connection("admin"), "argocd", name="rk-stale", duration=5)
    real_cluster.kubectl("delete", "lease", "-n", "argocd", "rk-stale", "--ignore-not-found")
    lease.acquire()
    current = lease.read()
    real_cluster.patch(lease.path, {"metadata": {"annotations": {"touched": "yes"}}})
    with pytest.raises(ApiStatusError) as err:
        lease.conn.request_json("PUT", lease.path, None, current)
    assert err.value.status == 409 and err.value.reason == "Conflict"


@pytest.mark.parametrize("user", ["admin", "engineer"])
def test_occ_status_through_real_exec(real_cluster, tenant, user) -> None:
    settings = real_cluster.settings(user)
    conn = real_cluster.connection(user)
    run = run_occ(conn, settings, "rk-ops", ["status", "--output=json"], auditor=None)
    assert run.exit_code == 0, (run.stderr, run.stdout)
    status = json.loads(run.stdout)
    assert status["installed"] is True and status["versionstring"].startswith("30.0.6")
    assert run.pod.startswith("nextcloud-")


def test_occ_is_refused_to_the_viewer(real_cluster, tenant) -> None:
    settings = real_cluster.settings("viewer")
    with pytest.raises(AccessDenied) as err:
        run_occ(real_cluster.connection("viewer"), settings, "rk-ops", ["status"], auditor=None)
    assert "pods/exec" in str(err.value) or "exec" in str(err.value)


def test_occ_on_a_wave(real_cluster, tenant) -> None:
    other = real_cluster.add_tenant("rk-ops2", 0, replicas=1)
    real_cluster.wait_ready(other)
    settings = real_cluster.settings("admin")
    runs = run_occ_fleet(
        real_cluster.connection("admin"), settings, ["rk-ops", "rk-ops2"], ["status"], auditor=None
    )
    assert sorted(r.tenant for r in runs) == ["rk-ops", "rk-ops2"]
    assert all(r.exit_code == 0 and "installed: true" in r.stdout for r in runs), runs


def test_kubectl_exec_as_the_readme_says(real_cluster, tenant) -> None:
    done = real_cluster.kubectl(
        "exec", "-n", "nc-rk-ops", "deploy/nextcloud", "--",
        "su", "-s", "/bin/sh", "www-data", "-c", "php occ status",
    )  # fmt: skip
    assert "installed: true" in done.stdout and "versionstring: 30.0.6" in done.stdout


def test_kubectl_reads_what_the_readme_tells_users_to(real_cluster, tenant) -> None:
    apps = real_cluster.kubectl("get", "applications.argoproj.io", "-A")
    assert "nc-rk-ops" in apps.stdout and "Synced" in apps.stdout and "Healthy" in apps.stdout
    pods = real_cluster.kubectl("get", "pods", "-n", "nc-rk-ops", "-o", "wide")
    assert "Running" in pods.stdout and "kwok-node-0" in pods.stdout
    logs = real_cluster.kubectl("logs", "-n", "nc-rk-ops", "deploy/nextcloud", "--tail=5")
    assert "apache2" in logs.stdout
    can = real_cluster.kubectl(
        "auth", "can-i", "create", "pods/exec", "-n", "nc-rk-ops", user="engineer", check=False
    )
    assert can.stdout.strip() == "yes"
    cannot = real_cluster.kubectl("get", "pods", "-A", user="engineer", check=False)
    assert cannot.returncode != 0 and "Forbidden" in cannot.stderr
    version = real_cluster.kubectl("version", "-o", "json")
    server = json.loads(version.stdout)["serverVersion"]
    assert server["gitVersion"] == "v1.36.3" and server["minor"] == "36"
    assert os.environ.get("KUBECONFIG") != str(real_cluster.kubeconfigs["admin"])


def test_occ_says_why_the_command_could_not_run(real_cluster) -> None:
    # kwok without a ClusterExec for the namespace answers exec with the kubelet's error, on the
    # error channel and without an exit code, as a kubelet does when the runtime cannot start
    # the command: the console must say so rather than "ended without an exit code".
    tenant = real_cluster.add_tenant("rk-noexec", 0, replicas=1)
    real_cluster.wait_ready(tenant)
    real_cluster.kubectl("delete", "clusterexec", "nextcloud-nc-rk-noexec")
    settings = real_cluster.settings("admin")
    conn = real_cluster.connection("admin")

    def refused() -> OccRun | None:
        run = run_occ(conn, settings, "rk-noexec", ["status"], auditor=None)
        return run if run.exit_code is None else None

    run = wait_until(refused, 30, "kwok to forget the ClusterExec")
    assert "no exec found" in run.error and run.error.startswith(f"pod {run.pod}:"), run
    assert not run.ok
