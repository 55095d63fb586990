"""How every action reaches the cluster: one connection and one auditor, opened the same way
for the CLI and the console, so neither needs the Kubernetes layer itself."""

from __future__ import annotations

from ncconsole.kube.appset_strategy import AppSetStrategy
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.ops.audit import Auditor
from ncconsole.settings import Settings

__all__ = ["AppSetStrategy", "KubeConnection", "connect_cluster", "open_session"]


def connect_cluster(settings: Settings) -> KubeConnection:
    """Connect with the settings' kubeconfig and context; KubeConfigError names the problem."""
    return connect(settings)


def open_session(settings: Settings) -> tuple[KubeConnection, Auditor]:
    conn = connect_cluster(settings)
    return conn, Auditor(settings, conn)
