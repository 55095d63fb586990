import json

import pytest

from ncconsole.sim.nextcloud.instance import REDACTED, NextcloudInstance, version_from_image_tag
from ncconsole.sim.nextcloud.occ import run_occ
from ncconsole.sim.scenario import TenantFaults, TenantSpec

HOST = "zwolle.nextcloud.example.com"


def make(**faults) -> NextcloudInstance:
    tenant = TenantSpec(
        name="zwolle",
        wave=1,
        hostname=HOST,
        bucket="nextcloud-zwolle",
        faults=TenantFaults(**faults),
    )
    return NextcloudInstance.for_tenant(tenant, "30.0.6-apache", "http://127.0.0.1:9000")


def su(*occ_args: str) -> list[str]:
    return ["su", "-s", "/bin/sh", "www-data", "-c", " ".join(["php", "occ", *occ_args])]


def run(nc, *occ_args):
    result = run_occ(nc, su(*occ_args))
    return result.stdout.decode(), result.stderr.decode(), result.exit_code


def test_version_follows_the_image_tag():
    assert version_from_image_tag("30.0.6-apache") == (30, 0, 6, 2)
    nc = make()
    assert nc.status_php()["version"] == "30.0.6.2"
    assert nc.status_php()["versionstring"] == "30.0.6"


@pytest.mark.parametrize(
    "argv",
    [
        ["su", "-s", "/bin/sh", "www-data", "-c", "php occ status --output=json"],
        ["su", "-s", "/bin/sh", "www-data", "-c", "php /var/www/html/occ status --output=json"],
        ["su", "www-data", "-s", "/bin/sh", "-c", "php 'occ' status '--output=json'"],
    ],
)
def test_the_chart_documented_su_form_runs_occ_as_www_data(argv):
    result = run_occ(make(), argv)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["versionstring"] == "30.0.6"


def test_php_occ_as_root_is_refused_like_nextcloud_does():
    result = run_occ(make(), ["php", "/var/www/html/occ", "status"])
    assert result.exit_code == 1
    text = result.stdout.decode()
    assert text.startswith(
        "Console has to be executed with the user that owns the file config/config.php\n"
    )
    assert "Current user id: 0\nOwner id of config.php: 33\n" in text


def test_php_occ_directly_when_the_pod_runs_as_www_data():
    nc = make()
    nc.runs_as_www_data = True
    for script in ("occ", "/var/www/html/occ"):
        result = run_occ(nc, ["php", script, "status", "-e"])
        assert (result.exit_code, result.stdout) == (0, b"")
        assert b"  - installed: true\n" in run_occ(nc, ["php", script, "status"]).stdout


def test_unknown_executable_exits_127_with_the_runtime_and_shell_messages():
    direct = run_occ(make(), ["phpx", "occ", "status"])
    assert direct.exit_code == 127
    assert b'exec: "phpx": executable file not found in $PATH' in direct.stderr
    shell = run_occ(make(), ["su", "-s", "/bin/sh", "www-data", "-c", "phpx occ status"])
    assert shell.exit_code == 127
    assert shell.stderr == b"sh: 1: phpx: not found\n"


def test_status_plain_output_and_exit_codes():
    nc = make()
    out, err, code = run(nc, "status")
    assert out == (
        "  - installed: true\n  - version: 30.0.6.2\n  - versionstring: 30.0.6\n"
        "  - edition: \n  - maintenance: false\n  - needsDbUpgrade: false\n"
        "  - productname: Nextcloud\n  - extendedSupport: false\n"
    )
    assert (err, code) == ("", 0)
    assert run(make(maintenance=True), "status", "-e")[2] == 1
    assert run(make(maintenance=True), "status")[2] == 0
    assert run(make(needs_db_upgrade=True), "status", "--exit-code")[2] == 2


def test_status_json_pretty_is_php_pretty_print():
    out, _, _ = run(make(), "status", "--output=json_pretty")
    assert out.startswith('{\n    "installed": true,\n    "version": "30.0.6.2",')
    assert json.loads(out)["productname"] == "Nextcloud"


def test_maintenance_mode_through_occ_is_what_status_php_reports():
    nc = make()
    assert run(nc, "maintenance:mode", "--on") == ("Maintenance mode enabled\n", "", 0)
    assert nc.status_php()["maintenance"] is True
    assert run(nc, "maintenance:mode", "--on")[0] == "Maintenance mode already enabled\n"
    out, err, code = run(nc, "app:list", "--output=json")
    assert code == 0
    assert "Nextcloud is in maintenance mode, no apps are loaded." in err
    assert json.loads(out)["enabled"]["files"]  # stdout stays parseable
    assert run(nc, "maintenance:mode", "--off")[0] == "Maintenance mode disabled\n"
    assert nc.status_php()["maintenance"] is False
    assert run(nc, "maintenance:mode")[0] == "Maintenance mode is currently disabled\n"


def test_app_list_plain_and_json():
    out, _, code = run(make(), "app:list")
    assert code == 0
    assert out.startswith("Enabled:\n  - activity: 3.0.0\n")
    assert "Disabled:\n  - admin_audit: 1.20.0\n" in out
    data = json.loads(run(make(), "app:list", "--output=json")[0])
    assert set(data) == {"enabled", "disabled"}
    assert data["disabled"]["user_ldap"] == "1.21.0"


def test_user_list_plain_and_json():
    out, _, _ = run(make(), "user:list")
    assert "  - admin: admin\n" in out
    users = json.loads(run(make(), "user:list", "--output=json")[0])
    assert users["admin"] == "admin" and len(users) >= 3
    assert len(json.loads(run(make(), "user:list", "-l", "1", "--output=json")[0])) == 1


def test_config_system_get():
    nc = make()
    assert run(nc, "config:system:get", "trusted_domains") == (f"{HOST}\n", "", 0)
    assert run(nc, "config:system:get", "objectstore", "arguments", "bucket")[0] == (
        "nextcloud-zwolle\n"
    )
    assert run(nc, "config:system:get", "maintenance")[0] == "false\n"
    assert run(nc, "config:system:get", "objectstore", "arguments", "secret")[0] == (
        REDACTED + "\n"
    )
    assert run(nc, "config:system:get", "no_such_key") == ("", "", 1)
    assert run(nc, "config:system:get", "no_such_key", "--default-value=x")[:3:2] == ("x\n", 0)
    args = json.loads(run(nc, "config:system:get", "objectstore", "--output=json")[0])
    assert args["class"] == "\\OC\\Files\\ObjectStore\\S3"
    assert args["arguments"]["use_path_style"] is True


def test_background_job_list_table_and_json():
    out, _, code = run(make(), "background-job:list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("+----+") and lines[1].startswith("| id | class")
    jobs = json.loads(run(make(), "background-job:list", "--output=json")[0])
    assert len(jobs) == 10 and set(jobs[0]) == {"id", "class", "last_run", "argument"}


def test_setupchecks_fail_until_missing_indices_are_added():
    healthy = json.loads(run(make(), "setupchecks", "--output=json")[0])
    assert run(make(), "setupchecks", "--output=json")[2] == 0
    assert healthy["security"]["OCA\\Settings\\SetupChecks\\HttpsUrlGeneration"]["severity"] == (
        "success"
    )
    nc = make(needs_db_upgrade=True)
    out, _, code = run(nc, "setupchecks", "--output=json")
    assert code == 1
    assert "Database missing indices" in out
    out, _, code = run(nc, "db:add-missing-indices")
    assert code == 0 and "oc_filecache table updated successfully." in out
    assert run(nc, "setupchecks")[2] == 0


def test_upgrade_exit_codes():
    nc = make(needs_db_upgrade=True)
    assert nc.status_php()["needsDbUpgrade"] is True
    out, err, code = run(nc, "upgrade")
    assert code == 0 and "Update successful" in out
    assert "require upgrade" in err
    assert nc.status_php()["needsDbUpgrade"] is False
    # core/Command/Upgrade.php (ERROR_UP_TO_DATE = 0); scripts grep for this line
    assert run(nc, "upgrade")[:3:2] == ("Nextcloud is already latest version\n", 0)
    nc.maintenance = True
    out, _, code = run(nc, "upgrade")
    assert code == 2 and out.startswith("Nextcloud is in maintenance mode\n")


def test_new_image_without_the_entrypoint_upgrade_needs_a_db_upgrade():
    nc = make()
    nc.deploy_image("30.0.8-apache", run_upgrade=False)
    assert nc.status_php()["version"] == "30.0.8.2"
    assert run(nc, "status", "-e")[2] == 2
    nc.deploy_image("30.0.9-apache")
    assert nc.status_php()["needsDbUpgrade"] is False


def test_unknown_command_fails_like_symfony():
    out, err, code = run(make(), "foo")
    assert (out, code) == ("", 1)
    assert '  Command "foo" is not defined.  ' in err
    _, err, _ = run(make(), "stauts")
    lines = [line.strip() for line in err.splitlines()]
    assert lines[lines.index("Did you mean this?") + 1] == "status"
    _, err, _ = run(make(), "nope:thing")
    assert 'There are no commands defined in the "nope" namespace.' in err


def test_abbreviations_and_unknown_options():
    assert run(make(), "maint:mode", "--on")[0] == "Maintenance mode enabled\n"
    _, err, code = run(make(), "maintenance:mode", "--output=json")
    assert code == 1 and 'The "--output" option does not exist.' in err


def test_help_is_minimal_and_exits_zero():
    out, _, code = run(make(), "status", "--help")
    assert code == 0 and "show some status information" in out
    out, _, code = run(make(), "list")
    assert code == 0 and "maintenance:mode" in out


def test_unterminated_quote_in_su_command_is_a_shell_syntax_error():
    result = run_occ(make(), ["su", "-s", "/bin/sh", "www-data", "-c", "php occ 'status"])
    assert result.exit_code == 2 and b"Unterminated quoted string" in result.stderr


def test_shell_sequences_and_cd_run_like_sh():
    nc = make()
    result = run_occ(
        nc,
        [
            "su",
            "-s",
            "/bin/sh",
            "www-data",
            "-c",
            "cd /var/www/html && php occ maintenance:mode --on",
        ],
    )
    assert (result.stdout, result.exit_code) == (b"Maintenance mode enabled\n", 0)
    result = run_occ(nc, ["sh", "-c", "cd /nope && echo unreachable; echo after"])
    assert result.stdout == b"after\n"
    assert result.stderr == b"sh: 1: cd: can't cd to /nope\n"
    assert run_occ(nc, ["sh", "-c", "false || exit 3"]).exit_code == 3
    assert run_occ(nc, ["sh", "-c", "php occ status | grep installed"]).exit_code == 2


def test_su_to_www_data_without_a_shell_hits_nologin():
    result = run_occ(make(), ["su", "www-data", "-c", "php occ status"])
    assert result.exit_code == 1
    assert result.stdout == b"This account is currently not available.\n"


def test_objectstore_config_follows_the_s3_endpoint():
    args = make().system_config["objectstore"]["arguments"]
    assert (args["hostname"], args["port"], args["use_ssl"]) == ("127.0.0.1", 9000, False)


def test_verbosity_flags_are_accepted():
    assert run(make(), "status", "-vvv", "--output=json")[2] == 0


def test_status_exit_code_writes_nothing_to_stdout_unless_verbose():
    """core/Command/Status.php: `-e` "does not write any output to STDOUT"; -v brings the
    table back."""
    out, _, code = run(make(maintenance=True), "status", "-e")
    assert (out, code) == ("", 1)
    out, _, code = run(make(maintenance=True), "status", "-e", "-v")
    assert code == 1 and "  - maintenance: true" in out
    assert run(make(), "status")[0].startswith("  - installed: true")


def test_resetpassword_reads_oc_pass_that_the_shell_read_from_stdin():
    # core/Command/User/ResetPassword.php: texts and exit codes.
    nc = make()
    script = "read -r OC_PASS && export OC_PASS && exec php occ user:resetpassword {}"
    argv = ["su", "-s", "/bin/sh", "www-data", "-c", script.format("--password-from-env admin")]
    result = run_occ(nc, argv, stdin=b"n3w-pass\n")
    assert (result.stdout, result.exit_code) == (b"Successfully reset password for admin\n", 0)
    assert nc.passwords == {"admin": "n3w-pass"}
    empty = run_occ(nc, argv, stdin=b"")  # `read` fails at the end of input: occ never runs
    assert empty.exit_code == 1 and empty.stdout == b""
    no_env = run_occ(nc, [*argv[:-1], "php occ user:resetpassword --password-from-env admin"])
    assert no_env.stdout == b"--password-from-env given, but OC_PASS is empty!\n"
    assert run(nc, "user:resetpassword", "admin")[0] == (
        "Interactive input or --password-from-env is needed for entering a new password!\n"
    )
    assert run(nc, "user:resetpassword", "nobody", "--password-from-env")[:2] == (
        "User does not exist\n", "",
    )  # fmt: skip
