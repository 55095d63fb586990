"""Secret creation and rotation against the simulated API server, and the audit they leave."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from ncconsole.ops.audit import Auditor, read_audit
from ncconsole.ops.errors import (
    AccessDenied,
    ConfirmationRequired,
    MissingValue,
    OpsError,
    ReadOnlyRefused,
    Refused,
    SecretExists,
)
from ncconsole.ops.secret_rotation import rotate_secret_keys
from ncconsole.ops.secrets import SecretRequest, SecretResult, create_tenant_secret
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import EVENTS, EXTERNALSECRETS, PODS, SECRETS
from tests.ops.conftest import OccCluster

pytestmark = pytest.mark.timeout(30)
KEYS = {"s3_access_key": "AKIATENANT", "s3_secret_key": "tenant-secret-value"}


def stored_secret(cluster: OccCluster, namespace: str) -> dict:
    return cluster.server.call(
        cluster.server.store.try_get, SECRETS, namespace, "nextcloud-secrets"
    )


def decoded(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def events(cluster: OccCluster, namespace: str) -> list[dict]:
    page = cluster.server.call(cluster.server.store.list, EVENTS, namespace)
    return list(page)


def create(cluster: OccCluster, tenant: str, **kwargs) -> tuple:
    settings = cluster.settings(**kwargs.pop("settings", {}))
    conn = cluster.connect()
    auditor = Auditor(settings, conn)
    request = SecretRequest(tenant, **kwargs)
    return create_tenant_secret(conn, settings, request, auditor=auditor), auditor


def test_generate_creates_namespace_and_secret_with_every_key(cluster: OccCluster) -> None:
    progress: list[str] = []
    settings = cluster.settings()
    conn = cluster.connect()
    auditor = Auditor(settings, conn)
    result = create_tenant_secret(
        conn,
        settings,
        SecretRequest("newco", create_namespace=True, **KEYS),
        auditor=auditor,
        progress=progress.append,
    )
    assert result.namespace_created and not result.dry_run
    values = decoded(stored_secret(cluster, "nc-newco"))
    assert set(values) == {
        "nextcloud-username", "nextcloud-password", "nextcloud-secret", "db-password",
        "redis-password", "s3-access-key", "s3-secret-key",
    }  # fmt: skip
    assert values["nextcloud-username"] == "admin"
    assert values["s3-access-key"] == "AKIATENANT"
    assert (
        len(values["nextcloud-password"]) >= 32
        and values["db-password"] != values["redis-password"]
    )
    assert set(result.masked_object["data"].values()) == {"********"}
    assert any("creating namespace nc-newco" in line for line in progress)
    # The audit line and the Event: no secret value anywhere.
    (line,) = read_audit()
    assert line["action"] == "secret.create" and line["result"] == "ok"
    assert line["target"] == "nc-newco/nextcloud-secrets"
    assert line["who"]["cluster_user"] == "admin" and line["context"] == "ncconsole-sim"
    raw = (Path(os.environ["XDG_STATE_HOME"]) / "ncconsole" / "audit.jsonl").read_text()
    assert "tenant-secret-value" not in raw and values["db-password"] not in raw
    (event,) = events(cluster, "nc-newco")
    assert event["reason"] == "NcconsoleSecretCreated"
    assert event["source"]["component"] == "ncconsole"
    assert "tenant-secret-value" not in json.dumps(event)


def test_existing_secret_is_never_overwritten(cluster: OccCluster) -> None:
    cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    before = stored_secret(cluster, "nc-alpha")
    with pytest.raises(SecretExists) as err:
        create(cluster, "alpha", **KEYS)
    assert "nc-alpha/nextcloud-secrets already exists" in str(err.value)
    assert "ncconsole secret rotate alpha" in str(err.value)
    assert stored_secret(cluster, "nc-alpha") == before
    assert [line["result"] for line in read_audit()] == ["ok", "refused"]


def test_missing_s3_keys_refused_before_anything_is_written(cluster: OccCluster) -> None:
    cluster.add("alpha")
    with pytest.raises(MissingValue) as err:
        create(cluster, "alpha", s3_access_key="AKIA")
    assert "--s3-secret-key (or NCCONSOLE_S3_SECRET_KEY)" in str(err.value)
    assert stored_secret(cluster, "nc-alpha") is None
    assert read_audit()[-1]["result"] == "refused"


def test_s3_keys_from_the_environment(cluster: OccCluster, monkeypatch) -> None:
    cluster.add("alpha")
    monkeypatch.setenv("NCCONSOLE_S3_ACCESS_KEY", "AKIAENV")
    monkeypatch.setenv("NCCONSOLE_S3_SECRET_KEY", "env-secret")
    create(cluster, "alpha")
    assert decoded(stored_secret(cluster, "nc-alpha"))["s3-secret-key"] == "env-secret"


def test_missing_namespace_needs_confirmation(cluster: OccCluster) -> None:
    with pytest.raises(ConfirmationRequired) as err:
        create(cluster, "newco", **KEYS)
    assert "namespace nc-newco does not exist" in str(err.value)
    assert stored_secret(cluster, "nc-newco") is None


def test_dry_run_asks_the_server_and_stores_nothing(cluster: OccCluster) -> None:
    cluster.add("alpha")
    result, _ = create(cluster, "alpha", dry_run=True, **KEYS)
    assert result.dry_run and result.masked_object["kind"] == "Secret"
    assert result.masked_object["data"]["db-password"] == "********"
    assert result.masked_object["metadata"].get("uid")  # the server's answer, not our body
    assert stored_secret(cluster, "nc-alpha") is None
    assert read_audit()[-1]["result"] == "dry-run" and not events(cluster, "nc-alpha")


def test_forbidden_namespace_names_verb_resource_and_namespace(cluster: OccCluster) -> None:
    cluster.add("locked")
    cluster.server.call(cluster.server.auth.deny, DenyRule(namespaces=("nc-locked",)))
    with pytest.raises(AccessDenied) as err:
        create(cluster, "locked", **KEYS)
    assert "may not create secrets in namespace nc-locked" in str(err.value)
    assert read_audit()[-1]["result"] == "refused"


def test_read_only_mode_refuses_in_ops(cluster: OccCluster) -> None:
    cluster.add("alpha")
    with pytest.raises(ReadOnlyRefused) as err:
        create(cluster, "alpha", settings={"read_only": True}, **KEYS)
    assert "read-only mode" in str(err.value)
    assert stored_secret(cluster, "nc-alpha") is None
    # Read-only writes nothing to the cluster, not even the audit Event.
    assert read_audit()[-1]["result"] == "refused" and not events(cluster, "nc-alpha")


def test_external_secret_created_and_waited_for(cluster: OccCluster) -> None:
    cluster.add("alpha")
    result, _ = create(cluster, "alpha", mode="external-secrets", wait_timeout=0.6)
    obj = cluster.server.call(
        cluster.server.store.try_get, EXTERNALSECRETS, "nc-alpha", "nextcloud-secrets"
    )
    assert obj["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert obj["spec"]["data"][0]["remoteRef"]["key"] == "nextcloud/alpha"
    # Nothing makes it Ready here: the wait ends at the deadline and says so.
    assert result.ready is False and "not Ready after 0.6 s" in result.message
    assert read_audit()[-1]["result"] == "not-ready"


def rotate(cluster: OccCluster, keys: list[str], **kwargs) -> SecretResult:
    settings = cluster.settings(**kwargs.pop("settings", {}))
    conn = cluster.connect()
    return rotate_secret_keys(conn, settings, "alpha", keys, auditor=Auditor(settings, conn),
                              **kwargs)  # fmt: skip


def test_rotation_replaces_only_named_keys(cluster: OccCluster) -> None:
    cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    before = decoded(stored_secret(cluster, "nc-alpha"))
    result = rotate(cluster, ["nextcloud-secret"])
    after = decoded(stored_secret(cluster, "nc-alpha"))
    assert after["nextcloud-secret"] != before["nextcloud-secret"]
    assert {k: v for k, v in after.items() if k != "nextcloud-secret"} == {
        k: v for k, v in before.items() if k != "nextcloud-secret"
    }
    assert result.notes == (
        "nextcloud-secret: no restart needed: pods read it only at the first install; the "
        "installed Nextcloud keeps its own 'secret'",
    )
    assert read_audit()[-1]["action"] == "secret.rotate"
    assert read_audit()[-1]["args"]["keys"] == ["nextcloud-secret"]


def test_s3_keys_take_the_given_values_and_say_a_restart_is_needed(cluster: OccCluster) -> None:
    cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    with pytest.raises(MissingValue) as err:
        rotate(cluster, ["s3-access-key"])
    assert "give its new value with --s3-access-key (or NCCONSOLE_S3_ACCESS_KEY)" in str(err.value)
    given = {"s3-access-key": "NEWACCESS", "s3-secret-key": "new-secret-value"}
    result = rotate(cluster, ["s3-access-key", "s3-secret-key"], given=given)
    after = decoded(stored_secret(cluster, "nc-alpha"))
    assert (after["s3-access-key"], after["s3-secret-key"]) == ("NEWACCESS", "new-secret-value")
    assert "new-secret-value" not in str(result.masked_object)
    assert result.notes[0] == (
        "s3-access-key: pods read it at start: restart them "
        "(kubectl -n nc-alpha rollout restart deployment)"
    )


def test_db_and_redis_passwords_need_the_server_changed_first(cluster: OccCluster) -> None:
    cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    before = decoded(stored_secret(cluster, "nc-alpha"))
    for key in ("db-password", "redis-password"):
        with pytest.raises(Refused) as err:
            rotate(cluster, [key])
        assert "breaks the tenant at its next pod start" in str(err.value)
        assert "--i-have-changed-the-server" in str(err.value)
    assert read_audit()[-1]["result"] == "refused"
    with pytest.raises(MissingValue, match="in NCCONSOLE_DB_PASSWORD"):
        rotate(cluster, ["db-password"], server_changed=True)
    assert decoded(stored_secret(cluster, "nc-alpha")) == before
    rotate(cluster, ["db-password"], server_changed=True, given={"db-password": "set-on-pg"})
    assert decoded(stored_secret(cluster, "nc-alpha"))["db-password"] == "set-on-pg"
    assert read_audit()[-1]["args"]["server_changed"] is True


def test_nextcloud_password_is_also_set_in_nextcloud(cluster: OccCluster) -> None:
    instance = cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    result = rotate(cluster, ["nextcloud-password"])
    new = decoded(stored_secret(cluster, "nc-alpha"))["nextcloud-password"]
    assert instance.passwords == {"admin": new}  # through stdin, never in the exec argv
    assert "set in Nextcloud too" in result.notes[0] and "no restart needed" in result.notes[0]
    assert all(new not in str(line) for line in read_audit())


def test_nextcloud_password_without_a_ready_pod_changes_nothing(cluster: OccCluster) -> None:
    instance = cluster.add("alpha")
    create(cluster, "alpha", **KEYS)
    before = decoded(stored_secret(cluster, "nc-alpha"))
    cluster.server.call(cluster.server.store.delete, PODS, "nc-alpha", "nextcloud-alpha-0")
    with pytest.raises(Refused) as err:
        rotate(cluster, ["nextcloud-password"])
    assert "needs a Ready pod; nothing was changed" in str(err.value)
    assert decoded(stored_secret(cluster, "nc-alpha")) == before and not instance.passwords


def test_rotation_of_a_missing_secret_points_to_create(cluster: OccCluster) -> None:
    cluster.add("alpha")
    settings = cluster.settings()
    conn = cluster.connect()
    with pytest.raises(OpsError) as err:
        rotate_secret_keys(
            conn, settings, "alpha", ["nextcloud-secret"], auditor=Auditor(settings, conn)
        )
    assert "ncconsole secret create alpha" in str(err.value)


def test_interrupt_leaves_no_secret_and_an_interrupted_audit_line(cluster: OccCluster) -> None:
    cluster.add("alpha")
    settings = cluster.settings()
    conn = cluster.connect()

    def interrupt(message: str) -> None:
        if message.startswith("creating Secret"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_tenant_secret(
            conn, settings, SecretRequest("alpha", **KEYS), auditor=Auditor(settings, conn),
            progress=interrupt,
        )  # fmt: skip
    assert stored_secret(cluster, "nc-alpha") is None
    line = read_audit()[-1]
    assert line["result"] == "interrupted" and line["exit_code"] == 130


def test_event_failure_is_reported_but_does_not_fail_the_action(cluster: OccCluster) -> None:
    cluster.add("alpha")
    cluster.server.call(
        cluster.server.auth.deny, DenyRule(verbs=("create",), resources=("events",))
    )
    result, _ = create(cluster, "alpha", **KEYS)
    assert stored_secret(cluster, "nc-alpha") is not None
    assert "audit Event not recorded in nc-alpha: HTTP 403" in result.audit_problem
    assert read_audit()[-1]["result"] == "ok"
