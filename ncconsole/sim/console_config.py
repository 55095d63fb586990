"""The ncconsole settings file (`config.yaml`) that points the console at a running simulator.

Paths in it are relative to the file (settings resolve them so), so the working directory
can be moved or mounted elsewhere and still work.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ncconsole.sim.controllers.state import APPLICATIONSET, ARGOCD_NAMESPACE, PLATFORM_NAMESPACE
from ncconsole.sim.platform_services import (
    MONITORING_NAMESPACE,
    PGBOUNCER_ADMIN_SECRET,
    REDIS_SECRET,
    PlatformServers,
)
from ncconsole.sim.s3 import S3Service

HEADER = "# ncconsole settings for the simulator in this directory (NCCONSOLE_CONFIG).\n"


def platform_settings(servers: PlatformServers) -> dict[str, Any]:
    """Port-forwards to the components that have a real server behind them; the others are
    not part of this simulator (not configured), rather than shown as unreachable."""
    return {
        "pgbouncer": {
            "service": "pgbouncer" if servers.pgbouncer else None,
            "port": 5432,
            "credentials_secret": PGBOUNCER_ADMIN_SECRET,
            "database_pattern": "nc_{tenant}",
        },
        "redis": {
            "service": "redis" if servers.redis else None,
            "port": 6379,
            "credentials_secret": REDIS_SECRET,
        },
        "alertmanager": {
            "namespace": MONITORING_NAMESPACE,
            "service": "alertmanager" if servers.alertmanager else None,
            "port": 9093,
        },
    }


def console_settings(
    web_address: str, s3: S3Service, servers: PlatformServers | None = None
) -> dict[str, Any]:
    s3_settings: dict[str, Any] = {"endpoint": s3.endpoint_url, "region": s3.region}
    if s3.external is not None and isinstance(s3.external.verify, str):
        s3_settings["ca_file"] = s3.external.verify
    elif s3.external is not None and s3.external.verify is False:
        s3_settings["insecure"] = True
    return {
        "repo": "platform",
        "kubeconfig": "kubeconfig",
        "namespace_prefix": "nc-",
        "app_prefix": "nc-",
        "argocd_namespace": ARGOCD_NAMESPACE,
        "platform_namespace": PLATFORM_NAMESPACE,
        "applicationset": APPLICATIONSET,
        # Every tenant's status.php answers on this one address, routed by Host header.
        "web": {"scheme": "https", "connect_to": web_address, "ca_file": "tls/ca.crt"},
        "s3": s3_settings,
        "secret": {"store_kind": "ClusterSecretStore", "store_name": "vault"},
        "platform": platform_settings(servers or PlatformServers()),
    }


def write_console_config(
    path: Path, web_address: str, s3: S3Service, servers: PlatformServers | None = None
) -> Path:
    """Write the settings atomically (temp file + rename)."""
    settings = console_settings(web_address, s3, servers)
    text = HEADER + yaml.safe_dump(settings, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
