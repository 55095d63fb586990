"""The simulated state of one tenant's Nextcloud: what `occ` changes and status.php reports.

Like real Nextcloud, `installed`, `maintenance` and the installed `version` live in the system
config (config.php); "needs DB upgrade" means the code (the deployed image) is newer than the
version recorded there. Secret values are never held: config entries that would carry them
show Nextcloud's own redaction marker.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ncconsole.sim.scenario import TenantSpec

REDACTED = "***REMOVED SENSITIVE VALUE***"
OBJECTSTORE_CLASS = "\\OC\\Files\\ObjectStore\\S3"
Version = tuple[int, int, int, int]

# Shipped apps of Nextcloud 30 with their versions; the disabled ones are installed but off.
_ENABLED_APPS = {
    "activity": "3.0.0", "bruteforcesettings": "3.0.0", "circles": "30.0.0",
    "cloud_federation_api": "1.13.0", "comments": "1.20.1", "contactsinteraction": "1.11.0",
    "dashboard": "7.10.0", "dav": "1.31.1", "federatedfilesharing": "1.20.0",
    "federation": "1.20.0", "files": "2.2.0", "files_pdfviewer": "3.0.0",
    "files_reminders": "1.3.0", "files_sharing": "1.22.0", "files_trashbin": "1.20.1",
    "files_versions": "1.23.0", "logreader": "3.0.0", "lookup_server_connector": "1.18.0",
    "notifications": "3.0.0", "oauth2": "1.18.1", "password_policy": "2.0.0",
    "photos": "3.0.2", "privacy": "2.0.0", "provisioning_api": "1.20.0",
    "related_resources": "1.5.0", "serverinfo": "2.0.0", "settings": "1.13.0",
    "sharebymail": "1.20.0", "systemtags": "1.20.0", "text": "4.1.0", "theming": "2.5.0",
    "twofactor_backupcodes": "1.19.0", "updatenotification": "1.20.0",
    "user_status": "1.10.0", "viewer": "3.0.0", "workflowengine": "2.12.0",
}  # fmt: skip
_DISABLED_APPS = {
    "admin_audit": "1.20.0", "encryption": "2.18.0", "files_external": "1.22.0",
    "suspicious_login": "8.0.0", "twofactor_totp": "12.0.0", "user_ldap": "1.21.0",
}  # fmt: skip
_JOB_CLASSES = (
    "OCA\\Files\\BackgroundJob\\ScanFiles",
    "OCA\\Files_Trashbin\\BackgroundJob\\ExpireTrash",
    "OCA\\Files_Versions\\BackgroundJob\\ExpireVersions",
    "OC\\Authentication\\Token\\TokenCleanupJob",
    "OC\\Log\\Rotate",
    "OC\\Preview\\BackgroundCleanupJob",
    "OCA\\Activity\\BackgroundJob\\ExpireActivities",
    "OCA\\Text\\Cron\\Cleanup",
    "OCA\\UpdateNotification\\BackgroundJob\\UpdateAvailableNotifications",
    "OCA\\DAV\\BackgroundJob\\CleanupInvitationTokenJob",
)
_PEOPLE = (
    ("j.devries", "Jan de Vries"), ("s.jansen", "Sanne Jansen"), ("m.bakker", "Mohamed Bakker"),
    ("l.visser", "Lotte Visser"), ("p.smit", "Pieter Smit"), ("f.elamrani", "Fatima El Amrani"),
    ("t.mulder", "Thomas Mulder"), ("e.deboer", "Emma de Boer"),
)  # fmt: skip
MISSING_INDEX = ("oc_filecache", "fs_storage_path_prefix")


def version_from_image_tag(image_tag: str) -> Version:
    """`30.0.6-apache` -> (30, 0, 6, 2). The build number is not in the tag; real releases
    mostly carry a small one, the simulator uses 2."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", image_tag)
    if not match:
        raise ValueError(f"image tag '{image_tag}' does not start with a Nextcloud version")
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch, 2)


def _version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def _older(version: Version) -> Version:
    major, minor, patch, _ = version
    return (major, minor, patch - 1, 1) if patch > 0 else (major - 1, 0, 0, 1)


def _web_error(tenant: TenantSpec) -> int | None:
    if tenant.faults.statusphp_500:
        return 500
    return 503 if tenant.faults.statusphp_503 else None


@dataclass
class SetupCheck:
    category: str
    check_class: str
    name: str
    severity: str = "success"  # success | info | warning | error
    description: str | None = None
    link: str | None = None


@dataclass
class NextcloudInstance:
    tenant: str
    hostname: str
    code_version: Version
    system_config: dict[str, Any]
    # The chart's pods run as root unless securityContext.runAsUser is 33 (www-data).
    runs_as_www_data: bool = False
    apps: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (version, enabled)
    users: dict[str, str] = field(default_factory=dict)  # uid -> display name
    # Passwords set with `occ user:resetpassword` (uid -> password), for tests to check.
    passwords: dict[str, str] = field(default_factory=dict)
    background_jobs: list[tuple[int, str, float, str]] = field(default_factory=list)
    missing_indices: list[tuple[str, str]] = field(default_factory=list)
    extra_checks: list[SetupCheck] = field(default_factory=list)
    # Web faults: status.php answers with this HTTP status instead of 200, or after a delay.
    web_error: int | None = None
    web_delay: float = 0.0

    @classmethod
    def for_tenant(
        cls, tenant: TenantSpec, image_tag: str, s3_endpoint: str = ""
    ) -> NextcloudInstance:
        """A freshly installed instance for `tenant` running `image_tag`, with its faults."""
        version = version_from_image_tag(tenant.image_tag or image_tag)
        digest = hashlib.sha256(tenant.name.encode()).hexdigest()
        installed = _older(version) if tenant.faults.needs_db_upgrade else version
        endpoint = urlsplit(s3_endpoint or "https://rgw.ceph.example.com")
        config: dict[str, Any] = {
            "instanceid": f"oc{digest[:10]}",
            "passwordsalt": REDACTED,
            "secret": REDACTED,
            "trusted_domains": [tenant.hostname],
            "datadirectory": "/var/www/html/data",
            "dbtype": "pgsql",
            "version": _version_text(installed),
            "overwrite.cli.url": f"https://{tenant.hostname}",
            "overwriteprotocol": "https",
            "dbname": f"nextcloud_{tenant.name.replace('-', '_')}",
            "dbhost": "pgbouncer.nc-platform.svc",
            "dbuser": f"nc_{tenant.name.replace('-', '_')}",
            "dbpassword": REDACTED,
            "installed": True,
            "maintenance": tenant.faults.maintenance,
            "memcache.local": "\\OC\\Memcache\\APCu",
            "memcache.distributed": "\\OC\\Memcache\\Redis",
            "memcache.locking": "\\OC\\Memcache\\Redis",
            "redis": {"host": "redis.nc-platform.svc", "port": 6379, "password": REDACTED},
            "objectstore": {
                "class": OBJECTSTORE_CLASS,
                "arguments": {
                    "bucket": tenant.bucket,
                    "hostname": endpoint.hostname,
                    "port": endpoint.port or (80 if endpoint.scheme == "http" else 443),
                    "use_ssl": endpoint.scheme != "http",
                    "region": "us-east-1",
                    "use_path_style": True,
                    "autocreate": False,
                    "key": REDACTED,
                    "secret": REDACTED,
                },
            },
            "loglevel": 2,
        }
        people = int(digest[10:12], 16) % 5 + 2
        now = time.time()
        return cls(
            tenant=tenant.name,
            hostname=tenant.hostname,
            code_version=version,
            system_config=config,
            apps={
                **{a: (v, True) for a, v in _ENABLED_APPS.items()},
                **{a: (v, False) for a, v in _DISABLED_APPS.items()},
            },
            users={"admin": "admin", **dict(_PEOPLE[:people])},
            background_jobs=[
                (i + 1, job, now - 60 * (i * 7 % 53 + 1), "null")
                for i, job in enumerate(_JOB_CLASSES)
            ],
            missing_indices=[MISSING_INDEX] if tenant.faults.needs_db_upgrade else [],
            web_error=_web_error(tenant),
            web_delay=tenant.faults.statusphp_slow,
        )

    # -- state backed by config.php, as in Nextcloud -------------------------------------------
    @property
    def installed(self) -> bool:
        return bool(self.system_config.get("installed", False))

    @property
    def maintenance(self) -> bool:
        return bool(self.system_config.get("maintenance", False))

    @maintenance.setter
    def maintenance(self, on: bool) -> None:
        self.system_config["maintenance"] = on

    @property
    def installed_version(self) -> Version:
        parts = [int(p) for p in str(self.system_config.get("version", "0.0.0.0")).split(".")]
        return tuple([*parts, 0, 0, 0, 0][:4])  # type: ignore[return-value]

    @property
    def needs_db_upgrade(self) -> bool:
        return self.installed and self.code_version > self.installed_version

    @property
    def version(self) -> str:
        return _version_text(self.code_version)

    @property
    def versionstring(self) -> str:
        return ".".join(str(part) for part in self.code_version[:3])

    def is_trusted(self, host: str) -> bool:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return host.lower() in (d.lower() for d in self.system_config.get("trusted_domains", []))

    # -- changes ---------------------------------------------------------------------------
    def deploy_image(self, image_tag: str, run_upgrade: bool = True) -> None:
        """New code in the pod. The official image's entrypoint runs `occ upgrade` on start
        when the image is newer than the installed version (`run_upgrade`)."""
        self.code_version = version_from_image_tag(image_tag)
        if run_upgrade and self.needs_db_upgrade and not self.maintenance:
            self.upgrade()

    def upgrade(self) -> None:
        self.system_config["version"] = self.version
        self.maintenance = False

    def status_php(self) -> dict[str, Any]:
        """The body of GET /status.php."""
        return {
            "installed": self.installed,
            "maintenance": self.maintenance,
            "needsDbUpgrade": self.needs_db_upgrade,
            "version": self.version,
            "versionstring": self.versionstring,
            "edition": "",
            "productname": "Nextcloud",
            "extendedSupport": False,
        }

    def setup_checks(self) -> list[SetupCheck]:
        checks = [
            SetupCheck("security", "OCA\\Settings\\SetupChecks\\HttpsUrlGeneration",
                       "HTTPS access and URLs", description="You are accessing your instance"
                       " over a secure connection, and your instance is generating secure URLs."),
            SetupCheck("system", "OCA\\Settings\\SetupChecks\\MemcacheConfigured",
                       "Memcache", description="Configured"),
            SetupCheck("system", "OCA\\Settings\\SetupChecks\\CronInfo", "Cron last run",
                       description="Last background job execution ran 4 minutes ago."),
            SetupCheck("database", "OCA\\Settings\\SetupChecks\\SupportedDatabase",
                       "Database version", description="PostgreSQL 16.4 detected."),
        ]  # fmt: skip
        if self.missing_indices:
            names = ", ".join(
                f'"{index}" in table "{table}"' for table, index in self.missing_indices
            )
            checks.append(SetupCheck(
                "database", "OCA\\Settings\\SetupChecks\\DatabaseHasMissingIndices",
                "Database missing indices", "warning",
                "Detected some missing optional indices. Missing indices: " + names
                + ". Run \"occ db:add-missing-indices\" to add them.",
            ))  # fmt: skip
        return checks + self.extra_checks
