"""The occ commands the simulator knows, with Nextcloud's output texts and exit codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ncconsole.sim.nextcloud import occ_output as out
from ncconsole.sim.nextcloud.instance import NextcloudInstance


class OccFail(Exception):
    """A Symfony console exception: an error block on stderr and exit 1."""


@dataclass
class CommandInput:
    args: list[str]
    opts: dict[str, str | bool]
    env: dict[str, str] = field(default_factory=dict)  # the process environment

    @property
    def output(self) -> str:
        value = self.opts.get("output", "plain")
        return value if value in ("json", "json_pretty") else "plain"


Handler = Callable[[NextcloudInstance, CommandInput], tuple[str, int]]


@dataclass
class CommandSpec:
    description: str
    handler: Handler
    options: dict[str, bool] = field(default_factory=dict)  # long name -> takes a value
    short: dict[str, str] = field(default_factory=dict)
    base: bool = True  # extends occ's Base command, so it has --output


def _status(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    php = nc.status_php()
    order = ("installed", "version", "versionstring", "edition", "maintenance",
             "needsDbUpgrade", "productname", "extendedSupport")  # fmt: skip
    text = out.formatted({key: php[key] for key in order}, given.output)
    if given.opts.get("exit-code") and not given.opts.get("verbose"):
        text = ""  # core/Command/Status.php: -e "does not write any output to STDOUT"
    if given.opts.get("exit-code"):
        if nc.maintenance:
            return text, 1
        if nc.needs_db_upgrade:
            return text, 2
    return text, 0


def _maintenance_mode(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    if given.opts.get("on"):
        if nc.maintenance:
            return "Maintenance mode already enabled\n", 0
        nc.maintenance = True
        return "Maintenance mode enabled\n", 0
    if given.opts.get("off"):
        if not nc.maintenance:
            return "Maintenance mode already disabled\n", 0
        nc.maintenance = False
        return "Maintenance mode disabled\n", 0
    if given.opts.get("check-if-disabled"):
        return "", 1 if nc.maintenance else 0
    return f"Maintenance mode is currently {'enabled' if nc.maintenance else 'disabled'}\n", 0


def _app_list(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    listing: dict[str, dict[str, str]] = {"enabled": {}, "disabled": {}}
    for app, (version, enabled) in sorted(nc.apps.items()):
        listing["enabled" if enabled else "disabled"][app] = version
    if given.output != "plain":
        return out.formatted(listing, given.output), 0
    text = ""
    for title, key in (("Enabled", "enabled"), ("Disabled", "disabled")):
        text += f"{title}:\n" + "".join(f"{line}\n" for line in out.plain_list(listing[key]))
    return text, 0


def _user_list(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    limit = int(given.opts.get("limit", 500) or 500)
    offset = int(given.opts.get("offset", 0) or 0)
    users = dict(sorted(nc.users.items())[offset : offset + limit])
    if given.opts.get("info"):
        detailed = {
            uid: {"user_id": uid, "display_name": name, "email": None,
                  "cloud_id": f"{uid}@{nc.hostname}", "enabled": True,
                  "groups": ["admin"] if uid == "admin" else [], "quota": "none",
                  "last_seen": "1970-01-01T00:00:00+00:00",
                  "user_directory": f"/var/www/html/data/{uid}", "backend": "Database"}
            for uid, name in users.items()
        }  # fmt: skip
        return out.formatted(detailed, given.output), 0
    return out.formatted(users, given.output), 0


def _config_system_get(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    if not given.args:
        raise OccFail('Not enough arguments (missing: "name").')
    value: Any = nc.system_config
    for key in given.args:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            default = given.opts.get("default-value")
            if isinstance(default, str):
                return f"{default}\n", 0
            return "", 1
    if isinstance(value, dict | list):
        if given.output == "plain":
            return "".join(f"{line}\n" for line in out.plain_list(value, "")), 0
        return out.formatted(value, given.output), 0
    if given.output == "plain":
        return f"{out.value_to_string(value)}\n", 0
    return out.php_json(value) + "\n", 0


def _user_resetpassword(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    """core/Command/User/ResetPassword.php: never interactive here (no TTY)."""
    if not given.args:
        raise OccFail('Not enough arguments (missing: "user").')
    user = given.args[0]
    if user not in nc.users:
        return "User does not exist\n", 1
    if not given.opts.get("password-from-env"):
        return (
            "Interactive input or --password-from-env is needed for entering a new password!\n",
            1,
        )
    password = given.env.get("OC_PASS", "")
    if not password:
        return "--password-from-env given, but OC_PASS is empty!\n", 1
    nc.passwords[user] = password
    return f"Successfully reset password for {user}\n", 0


def _background_job_list(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    wanted = given.opts.get("class")
    limit = int(given.opts.get("limit", 10) or 10)
    offset = int(given.opts.get("offset", 0) or 0)
    jobs = [j for j in nc.background_jobs if not isinstance(wanted, str) or j[1] == wanted]
    rows = [
        {"id": job_id, "class": cls, "last_run": _atom(last_run), "argument": argument}
        for job_id, cls, last_run, argument in jobs[offset : offset + limit]
    ]
    if given.output != "plain":
        return out.formatted(rows, given.output), 0
    return out.table(rows), 0


def _setupchecks(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    checks = nc.setup_checks()
    failed = int(any(c.severity != "success" for c in checks))
    if given.output != "plain":
        results: dict[str, dict[str, Any]] = {}
        for c in checks:
            results.setdefault(c.category, {})[c.check_class] = {
                "name": c.name, "severity": c.severity, "description": c.description,
                "descriptionParameters": [], "linkToDoc": c.link,
            }  # fmt: skip
        return out.formatted(results, given.output), failed
    emoji = {"success": "✓", "error": "✗", "warning": "⚠"}
    lines: dict[str, list[str]] = {}
    for c in checks:
        text = f"\t\t{emoji.get(c.severity, 'ℹ')} {c.name}"
        lines.setdefault(c.category, []).append(
            text + (f": {c.description}" if c.description else "")
        )
    return "".join(
        f"\t{cat}:\n" + "".join(f"{t}\n" for t in ts) for cat, ts in lines.items()
    ), failed


def _upgrade(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    if not nc.installed:
        return "Nextcloud has not yet been installed\n", 1
    if nc.needs_db_upgrade:
        nc.upgrade()
        return (
            "Setting log level to debug\nTurned on maintenance mode\nUpdating database schema\n"
            "Updated database\nStarting code integrity check...\n"
            "Finished code integrity check\nUpdate successful\nTurned off maintenance mode\n"
            "Resetting log level\n",
            0,
        )
    if nc.maintenance:
        return (
            "Nextcloud is in maintenance mode\nMaybe an upgrade is already in process. Please "
            "check the logfile (data/nextcloud.log). If you want to re-run the upgrade "
            'procedure, remove the "maintenance mode" from config.php and call this script '
            "again.\n",
            2,
        )
    return "Nextcloud is already latest version\n", 0  # core/Command/Upgrade.php


def _add_missing_indices(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    text = ""
    for table, index in list(nc.missing_indices):
        text += (
            f"Adding additional {index} index to the {table} table, this can take some time...\n"
        )
        if not given.opts.get("dry-run"):
            nc.missing_indices.remove((table, index))
            text += f"{table} table updated successfully.\n"
    return text, 0


def _list(nc: NextcloudInstance, given: CommandInput) -> tuple[str, int]:
    commands = available_commands(nc)
    width = max(len(n) for n in commands) + 2
    text = f"Nextcloud {nc.versionstring}\n\nUsage:\n  command [options] [arguments]\n\n"
    text += "Available commands:\n"
    text += "".join(f"  {n:<{width}}{c.description}\n" for n, c in sorted(commands.items()))
    return text, 0


COMMANDS: dict[str, CommandSpec] = {
    "list": CommandSpec("List commands", _list, base=False),
    "status": CommandSpec("show some status information", _status, {"exit-code": False},
                          {"e": "exit-code"}),
    "maintenance:mode": CommandSpec(
        "set maintenance mode", _maintenance_mode,
        {"on": False, "off": False, "check-if-disabled": False}, base=False),
    "app:list": CommandSpec("List all available apps", _app_list,
                            {"shipped": True, "enabled": False, "disabled": False}),
    "user:list": CommandSpec("list configured users", _user_list,
                             {"limit": True, "offset": True, "info": False, "disabled": False},
                             {"l": "limit", "o": "offset", "i": "info"}),
    "user:resetpassword": CommandSpec("Resets the password of the named user",
                                      _user_resetpassword, {"password-from-env": False},
                                      base=False),
    "config:system:get": CommandSpec("Get a system config value", _config_system_get,
                                     {"default-value": True}),
    "background-job:list": CommandSpec("List background jobs", _background_job_list,
                                       {"class": True, "limit": True, "offset": True},
                                       {"c": "class", "l": "limit", "o": "offset"}),
    "setupchecks": CommandSpec("Run setup checks and output the results", _setupchecks),
    "upgrade": CommandSpec(
        "run upgrade routines after installation of a new release. The release has to be "
        "installed before.", _upgrade, base=False),
    "db:add-missing-indices": CommandSpec("Add missing indices to the database tables",
                                          _add_missing_indices, {"dry-run": False}, base=False),
}  # fmt: skip
_WHEN_NOT_INSTALLED = ("list", "status", "upgrade")


def available_commands(nc: NextcloudInstance) -> dict[str, CommandSpec]:
    if nc.installed:
        return COMMANDS
    return {name: COMMANDS[name] for name in _WHEN_NOT_INSTALLED}


def state_warnings(nc: NextcloudInstance, command: str) -> str:
    """What occ writes to stderr before running a command in a degraded state."""
    if not nc.installed:
        return "Nextcloud is not installed - only a limited number of commands are available\n"
    if nc.needs_db_upgrade:
        return (
            "Nextcloud or one of the apps require upgrade - only a limited number of commands "
            "are available\nYou may use your browser or the occ upgrade command to do the "
            "upgrade\n"
        )
    if nc.maintenance and command not in ("maintenance:mode", "status"):
        return (
            "Nextcloud is in maintenance mode, no apps are loaded.\n"
            "Commands provided by apps are unavailable.\n"
        )
    return ""


def _atom(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
