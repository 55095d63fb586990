"""occ through pod exec on the simulator: streaming, exit codes, refusals, fleet runs, audit."""

from __future__ import annotations

import pytest

from ncconsole.ops.audit import Auditor, read_audit
from ncconsole.ops.errors import AccessDenied, ConfirmationRequired, PodNotReady, ReadOnlyRefused
from ncconsole.ops.guard import is_read_only_occ
from ncconsole.ops.occ import occ_argv, run_occ, run_occ_fleet
from ncconsole.ops.occ_secrets import masked_args
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import EVENTS, PODS
from tests.cluster_objects import pod
from tests.ops.conftest import OccCluster

pytestmark = pytest.mark.timeout(30)


def occ(cluster: OccCluster, tenant: str, *args: str, **kwargs):
    settings = cluster.settings(**kwargs.pop("settings", {}))
    conn = cluster.connect()
    return run_occ(conn, settings, tenant, list(args), auditor=Auditor(settings, conn), **kwargs)


def test_occ_streams_output_and_reports_exit_code(cluster: OccCluster) -> None:
    cluster.add("alpha")
    chunks: list[tuple[str, str]] = []
    run = occ(
        cluster, "alpha", "status", "--output=json", on_output=lambda s, t: chunks.append((s, t))
    )
    assert run.exit_code == 0 and run.pod == "nextcloud-alpha-0"
    assert '"versionstring":"30.0.6"' in run.stdout
    assert chunks and chunks[0][0] == "stdout"
    (line,) = read_audit()
    assert line["action"] == "occ" and line["exit_code"] == 0 and line["result"] == "ok"
    assert line["target"] == "nc-alpha/nextcloud-alpha-0"
    assert line["args"]["occ"] == ["status", "--output=json"]


def test_occ_non_zero_exit_is_reported_and_audited(cluster: OccCluster) -> None:
    cluster.add("alpha", maintenance=True)
    run = occ(cluster, "alpha", "status", "-e")
    assert run.exit_code == 1 and not run.ok
    line = read_audit()[-1]
    assert line["result"] == "failed" and line["exit_code"] == 1


def test_state_changing_occ_needs_confirmation(cluster: OccCluster) -> None:
    instance = cluster.add("alpha")
    with pytest.raises(ConfirmationRequired) as err:
        occ(cluster, "alpha", "maintenance:mode", "--on")
    assert "occ maintenance:mode may change state" in str(err.value)
    assert instance.maintenance is False
    run = occ(cluster, "alpha", "maintenance:mode", "--on", confirmed=True)
    assert run.exit_code == 0 and instance.maintenance is True
    (event,) = cluster.server.call(cluster.server.store.list, EVENTS, "nc-alpha")
    assert event["reason"] == "NcconsoleOcc" and "occ" in event["message"]


def test_read_only_mode_allows_only_read_only_occ(cluster: OccCluster) -> None:
    instance = cluster.add("alpha")
    with pytest.raises(ReadOnlyRefused):
        occ(
            cluster,
            "alpha",
            "maintenance:mode",
            "--on",
            confirmed=True,
            settings={"read_only": True},
        )
    assert instance.maintenance is False
    assert occ(cluster, "alpha", "app:list", settings={"read_only": True}).exit_code == 0


def test_pod_not_ready_is_refused_with_the_pod_state(cluster: OccCluster) -> None:
    cluster.add("alpha")
    cluster.server.call(cluster.server.store.delete, PODS, "nc-alpha", "nextcloud-alpha-0")
    cluster.server.call(
        cluster.server.store.create,
        PODS,
        pod("alpha", "nextcloud-alpha-1", ready=False, waiting="CrashLoopBackOff"),
    )
    with pytest.raises(PodNotReady) as err:
        occ(cluster, "alpha", "status")
    assert "nextcloud-alpha-1 CrashLoopBackOff not Ready" in str(err.value)


def test_forbidden_exec_names_verb_resource_namespace(cluster: OccCluster) -> None:
    cluster.add("alpha")
    cluster.server.call(
        cluster.server.auth.deny, DenyRule(resources=("pods/exec",), namespaces=("nc-alpha",))
    )
    with pytest.raises(AccessDenied) as err:
        occ(cluster, "alpha", "status")
    # the first verb the websocket exec needs (get, and create from 1.35)
    assert "may not get pods/exec in namespace nc-alpha" in str(err.value)


def test_user_text_is_never_split_by_the_shell(cluster: OccCluster) -> None:
    cluster.add("alpha")
    run = occ(cluster, "alpha", "config:system:get", "dbname; echo pwned")
    assert "pwned" not in run.stdout and run.exit_code == 1


def test_argv_forms() -> None:
    from ncconsole.settings import Settings

    su = occ_argv(Settings(), ["config:system:get", "a b"])
    assert su == [
        "su",
        "-s",
        "/bin/sh",
        "www-data",
        "-c",
        "php /var/www/html/occ config:system:get 'a b'",
    ]
    direct = occ_argv(Settings(occ={"form": "direct"}), ["status"])
    assert direct == ["php", "/var/www/html/occ", "status"]


def test_direct_form_runs_when_the_pod_is_www_data(cluster: OccCluster) -> None:
    cluster.add("alpha").runs_as_www_data = True
    assert occ(cluster, "alpha", "status", settings={"occ": {"form": "direct"}}).exit_code == 0


def test_fleet_run_bounded_and_per_tenant_results(cluster: OccCluster) -> None:
    for name in ("a1", "a2", "a3"):
        cluster.add(name)
    cluster.server.call(cluster.server.store.delete, PODS, "nc-a2", "nextcloud-a2-0")
    settings = cluster.settings()
    conn = cluster.connect()
    seen: list[str] = []
    runs = run_occ_fleet(
        conn, settings, ["a1", "a2", "a3"], ["app:list"], auditor=Auditor(settings, conn),
        concurrency=2, on_result=lambda r: seen.append(r.tenant),
    )  # fmt: skip
    assert [r.tenant for r in runs] == ["a1", "a2", "a3"] and sorted(seen) == ["a1", "a2", "a3"]
    assert runs[0].exit_code == 0 and runs[2].exit_code == 0
    assert runs[1].exit_code is None and "no Nextcloud pod in nc-a2" in runs[1].error


def test_classification_and_masking() -> None:
    assert is_read_only_occ(["status", "--output=json"])
    assert is_read_only_occ(["maintenance:mode"])
    assert not is_read_only_occ(["maintenance:mode", "--on"])
    assert not is_read_only_occ(["maint:mode", "--on"])  # abbreviations count as changing
    assert not is_read_only_occ(["user:delete", "bob"])
    assert not is_read_only_occ(["config:list", "--private"])
    assert masked_args(["user:add", "--password=abc", "bob"]) == [
        "user:add",
        "--password=********",
        "bob",
    ]
    assert masked_args(["x", "--secret", "abc"]) == ["x", "--secret", "********"]
    hidden = masked_args(["config:system:set", "dbpassword", "--value=hunter2"])
    assert hidden == ["config:system:set", "dbpassword", "--value=********"]
    assert masked_args(["config:system:set", "loglevel", "--value=2"])[-1] == "--value=2"


def test_permissions_offered_per_tenant(cluster: OccCluster) -> None:
    from ncconsole.ops.guard import tenant_permissions

    cluster.add("alpha")
    cluster.server.call(
        cluster.server.auth.deny, DenyRule(verbs=("update",), resources=("secrets",))
    )
    allowed = tenant_permissions(cluster.connect(), cluster.settings(), "alpha")
    assert allowed["occ"] == "" and allowed["secret.create"] == ""
    assert "may not update secrets in namespace nc-alpha" in allowed["secret.rotate"]
    read_only = tenant_permissions(cluster.connect(), cluster.settings(read_only=True), "alpha")
    assert read_only["secret.create"] == "read-only mode" and read_only["occ"] == ""


def test_occ_timeout_and_stop_are_reported_and_audited(cluster: OccCluster) -> None:

    cluster.add("slow")
    cluster.delays["nc-slow"] = 5.0
    run = occ(cluster, "slow", "status", timeout=0.5)  # occ would answer after 5 s
    assert run.timed_out and run.exit_code is None and not run.stopped
    assert read_audit()[-1]["result"] == "timeout"
    assert read_audit()[-1]["message"] == "no answer within 0.5 s"
    run = occ(cluster, "slow", "status", should_stop=lambda: True)
    assert run.stopped and read_audit()[-1]["result"] == "interrupted"


def test_interrupting_a_fleet_run_abandons_the_running_commands(cluster: OccCluster) -> None:
    import os
    import signal
    import threading

    for name in ("fast", "slow1", "slow2"):
        cluster.add(name)
    cluster.delays.update({"nc-slow1": 10.0, "nc-slow2": 10.0})
    settings = cluster.settings()
    conn = cluster.connect()
    run_occ(conn, settings, "fast", ["status"], auditor=None)  # warm up the client
    # Ctrl-C arrives in the main thread once the fast tenant is done.
    ctrl_c = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    with pytest.raises(KeyboardInterrupt):
        run_occ_fleet(
            conn, settings, ["fast", "slow1", "slow2"], ["status"], auditor=Auditor(settings, conn),
            concurrency=3,
        )  # fmt: skip
    results = {line["target"].split("/")[0]: line["result"] for line in read_audit()}
    assert results == {"nc-fast": "ok", "nc-slow1": "interrupted", "nc-slow2": "interrupted"}


def test_reading_a_secret_is_not_read_only_and_its_output_is_masked(cluster: OccCluster) -> None:
    instance = cluster.add("alpha")
    instance.system_config["dbpassword"] = "hunter2-db-password"
    objectstore = instance.system_config["objectstore"]["arguments"]
    objectstore["secret"] = "s3-secret-value"
    with pytest.raises(ReadOnlyRefused) as err:
        occ(cluster, "alpha", "config:system:get", "dbpassword", settings={"read_only": True})
    assert "prints a secret" in str(err.value)
    with pytest.raises(ConfirmationRequired):
        occ(cluster, "alpha", "config:system:get", "dbpassword")
    chunks: list[str] = []
    run = occ(
        cluster, "alpha", "config:system:get", "dbpassword", confirmed=True,
        on_output=lambda _, text: chunks.append(text),
    )  # fmt: skip
    assert run.exit_code == 0 and run.stdout == "********\n" and chunks == ["********\n"]
    section = occ(cluster, "alpha", "config:system:get", "objectstore", confirmed=True)
    assert "s3-secret-value" not in section.stdout
    assert "  secret: ********" in section.stdout.replace('"', "")
    assert all("hunter2" not in str(line) for line in read_audit())
    # Reading other keys is read-only as before.
    assert occ(cluster, "alpha", "config:system:get", "loglevel",
               settings={"read_only": True}).stdout == "2\n"  # fmt: skip


def test_which_config_reads_count_as_secret() -> None:
    assert not is_read_only_occ(["config:system:get", "dbpassword"])
    assert not is_read_only_occ(["config:system:get", "redis", "password"])
    assert not is_read_only_occ(["config:system:get", "objectstore"])
    assert not is_read_only_occ(["config:app:get", "user_ldap", "ldap_agent_password"])
    assert not is_read_only_occ(["config:system:get", "mail_smtppassword", "--output=json"])
    assert is_read_only_occ(["config:system:get", "trusted_domains"])
    assert is_read_only_occ(["config:system:get", "redis", "host"]) is False  # whole section
    assert is_read_only_occ(["config:app:get", "core", "vendor"])


def test_occ_needs_get_as_well_as_create_on_pods_exec(cluster: OccCluster) -> None:
    """Websocket exec is authorized as `get pods/exec` up to Kubernetes 1.34, and `create`
    as well from 1.35 (kubernetes#134577): a Role with only `create` passed the old check and
    was then refused; now the missing verb is named before anything runs."""
    from ncconsole.ops.guard import tenant_permissions

    cluster.add("alpha")
    cluster.server.call(
        cluster.server.auth.deny, DenyRule(verbs=("get",), resources=("pods/exec",))
    )
    with pytest.raises(AccessDenied) as refused:
        occ(cluster, "alpha", "status")
    assert "may not get pods/exec in namespace nc-alpha" in str(refused.value)
    offered = tenant_permissions(cluster.connect(), cluster.settings(), "alpha")
    assert "may not get pods/exec in namespace nc-alpha" in offered["occ"]
