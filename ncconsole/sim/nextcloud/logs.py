"""What a tenant's Nextcloud container writes, run by run, with the time of every line: the
official image's entrypoint, Apache starting, then the kubelet's readiness probes of
status.php and the odd user request - or, for a run that crashed, the error it died of
(PgBouncer refusing the database connection, the demo's crash loop).

Lines are a pure function of the run (its start, end and exit code), so the same request
gives the same answer, `--previous` shows what the crashed run wrote, and a follower sees new
probe lines appear as time passes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from ncconsole.sim.apiserver.pod_logs import ContainerRun, LogLine
from ncconsole.sim.nextcloud.instance import NextcloudInstance, version_from_image_tag
from ncconsole.sim.nextcloud.occ_output import php_json

# The Nextcloud pod's database is reached through the platform's shared PgBouncer.
PGBOUNCER_REFUSED = (
    "PHP Fatal error:  Uncaught Doctrine\\DBAL\\Exception: Failed to connect to the database: "
    "An exception occurred in the driver: SQLSTATE[08006] [7] connection to server at "
    '"pgbouncer.nc-platform.svc" (10.43.0.12), port 5432 failed: FATAL:  no more connections '
    "allowed (max_client_conn) in /var/www/html/lib/private/DB/Connection.php:237"
)
MAX_LINES = 5000  # per run: a pod up for weeks keeps only its newest probe lines
_USER_REQUESTS = (
    ('PROPFIND /remote.php/dav/files/{user}/ HTTP/1.1" 207', 1931),
    ('GET /ocs/v2.php/apps/notifications/api/v2/notifications?format=json HTTP/1.1" 200', 612),
    ('PUT /remote.php/dav/files/{user}/Documenten/notulen.docx HTTP/1.1" 204', 0),
    ('GET /apps/files/ HTTP/1.1" 200', 48213),
    ('REPORT /remote.php/dav/files/{user}/ HTTP/1.1" 207', 3378),
)


def _image_version(pod: dict[str, Any], container: str, fallback: str) -> str:
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("name") == container:
            tag = str(c.get("image", "")).rpartition(":")[2]
            if re.match(r"\d+\.\d+\.\d+", tag):
                return ".".join(str(p) for p in version_from_image_tag(tag))
    return fallback


def _pick(key: str, count: int) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % count


def nextcloud_log(
    instance: NextcloudInstance,
    pod: dict[str, Any],
    run: ContainerRun,
    until: datetime,
    *,
    probe_period: float = 10.0,
    probe_delay: float = 10.0,
) -> list[LogLine]:
    """The lines `run` of a container of `instance`'s pod `pod` wrote up to `until`."""
    start = run.started_at
    if run.container != "nextcloud":
        return [(start, f"{run.container}: started")]
    version = _image_version(pod, run.container, instance.version)
    entry = [
        "Configuring Redis as session handler",
        f"Initializing nextcloud {version} ...",
        "Initializing finished",
        "=> Searching for hook scripts (*.sh) to run, located in the folder "
        '"/docker-entrypoint-hooks.d/before-starting"',
        '==> Skipped: the "before-starting" folder is empty (or does not exist)',
    ]
    lines = [(start + timedelta(milliseconds=40 * i), text) for i, text in enumerate(entry)]
    if run.exit_code not in (None, 0):
        died = max(run.finished_at or start, lines[-1][0] + timedelta(milliseconds=40))
        lines.append((died, PGBOUNCER_REFUSED))
        return lines
    ip = (pod.get("status") or {}).get("podIP") or "10.42.0.17"
    at = lines[-1][0] + timedelta(milliseconds=300)
    apache = f"{at:%a %b %d %H:%M:%S}.{at.microsecond:06d} {at:%Y}"
    lines += [
        (at, "AH00558: apache2: Could not reliably determine the server's fully qualified "
             f"domain name, using {ip}. Set the 'ServerName' directive globally to suppress "
             "this message"),
        (at + timedelta(milliseconds=5), f"[{apache}] [mpm_prefork:notice] [pid 1:tid 1] "
             "AH00163: Apache/2.4.62 (Debian) PHP/8.3.14 configured -- resuming normal operations"),
        (at + timedelta(milliseconds=6), f"[{apache}] [core:notice] [pid 1:tid 1] AH00094: "
             "Command line: 'apache2 -D FOREGROUND'"),
    ]  # fmt: skip
    end = min(until, run.finished_at or until)
    first = start + timedelta(seconds=probe_delay)
    if end < first or probe_period <= 0:
        return lines
    total = int((end - first).total_seconds() // probe_period) + 1
    gateway = ip.rsplit(".", 1)[0] + ".1"
    size = len(php_json(instance.status_php()))
    users = sorted(instance.users) or ["admin"]
    for k in range(max(0, total - MAX_LINES), total):
        probe_at = first + timedelta(seconds=k * probe_period)
        stamp = f"{probe_at:%d/%b/%Y:%H:%M:%S} +0000"
        lines.append(
            (probe_at, f'{gateway} - - [{stamp}] "GET /status.php HTTP/1.1" 200 {size} "-" '
                       '"kube-probe/1.31"')
        )  # fmt: skip
        key = f"{run.container_id}/{k}"
        if _pick(key, 4) == 0:  # a user now and then, between two probes
            request, length = _USER_REQUESTS[_pick(key + "r", len(_USER_REQUESTS))]
            user = users[_pick(key + "u", len(users))]
            at_user = probe_at + timedelta(seconds=probe_period / 2)
            if at_user <= end:
                lines.append(
                    (at_user, f'10.42.7.{_pick(user, 200) + 2} - {user} '
                              f'[{at_user:%d/%b/%Y:%H:%M:%S} +0000] "'
                              f'{request.format(user=user)} {length} "-" "Mozilla/5.0 '
                              '(X11; Linux x86_64) Nextcloud-desktop/3.14.1"')
                )  # fmt: skip
    return lines
