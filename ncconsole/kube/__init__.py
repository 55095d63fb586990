"""The only layer that imports `kubernetes`: connection, list+watch loops, raw-JSON views."""

from ncconsole.kube.connection import (
    ApiStatusError,
    ApiUnreachable,
    KubeConfigError,
    KubeConnection,
    connect,
)
from ncconsole.kube.secrets import S3Credentials, TenantSecretReader
from ncconsole.kube.watch import KindWatcher, WatchSink, WatchSpec, WatchTiming

__all__ = [
    "ApiStatusError",
    "ApiUnreachable",
    "KindWatcher",
    "KubeConfigError",
    "KubeConnection",
    "S3Credentials",
    "TenantSecretReader",
    "WatchSink",
    "WatchSpec",
    "WatchTiming",
    "connect",
]
