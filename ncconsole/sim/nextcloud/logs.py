"""What `kubectl logs` shows for a tenant's Nextcloud pod: the official image's entrypoint and
Apache start-up lines, then kubelet probes of status.php — or, for a crash-looping pod, the
fatal error it dies of."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.sim.nextcloud.instance import NextcloudInstance, version_from_image_tag
from ncconsole.sim.nextcloud.occ_output import php_json


def _started(pod: dict[str, Any]) -> datetime:
    raw = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


def _image_version(pod: dict[str, Any], container: str, fallback: str) -> str:
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("name") == container:
            tag = str(c.get("image", "")).rpartition(":")[2]
            if re.match(r"\d+\.\d+\.\d+", tag):
                return ".".join(str(p) for p in version_from_image_tag(tag))
    return fallback


def nextcloud_log(instance: NextcloudInstance, pod: dict[str, Any], container: str) -> str:
    """The log of a container of `instance`'s pod `pod`."""
    started = _started(pod)
    ip = (pod.get("status") or {}).get("podIP") or "10.42.0.17"
    if container != "nextcloud":
        return f"{started:%Y-%m-%dT%H:%M:%SZ} {container}: started\n"
    version = _image_version(pod, container, instance.version)
    lines = [
        "Configuring Redis as session handler",
        f"Initializing nextcloud {version} ...",
        "Initializing finished",
        "=> Searching for hook scripts (*.sh) to run, located in the folder "
        '"/docker-entrypoint-hooks.d/before-starting"',
        '==> Skipped: the "before-starting" folder is empty (or does not exist)',
    ]
    if instance.crash_reason:
        return "".join(f"{line}\n" for line in [*lines, instance.crash_reason])
    apache = f"{started:%a %b %d %H:%M:%S}.{started.microsecond:06d} {started:%Y}"
    lines += [
        f"AH00558: apache2: Could not reliably determine the server's fully qualified domain "
        f"name, using {ip}. Set the 'ServerName' directive globally to suppress this message",
        f"[{apache}] [mpm_prefork:notice] [pid 1:tid 1] AH00163: Apache/2.4.62 (Debian) "
        f"PHP/8.3.14 configured -- resuming normal operations",
        f"[{apache}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'apache2 -D FOREGROUND'",
    ]
    size = len(php_json(instance.status_php()))
    for i in range(1, 4):
        at = started + timedelta(seconds=10 * i)
        lines.append(
            f'{ip.rsplit(".", 1)[0]}.1 - - [{at:%d/%b/%Y:%H:%M:%S} +0000] "GET /status.php '
            f'HTTP/1.1" 200 {size} "-" "kube-probe/1.31"'
        )
    return "".join(f"{line}\n" for line in lines)
