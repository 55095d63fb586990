"""How every action reaches the cluster: one connection and one auditor, opened the same way
for the CLI and the console (which shares its live fleet's connection), so the front ends pass
a session to the operations and never handle the Kubernetes layer themselves."""

from __future__ import annotations

from dataclasses import dataclass

from ncconsole.fleet.state import FleetState
from ncconsole.kube.connection import KubeConnection, check_identity, connect
from ncconsole.ops.audit import Auditor
from ncconsole.settings import Settings


@dataclass(frozen=True)
class ClusterSession:
    """What an operation needs to act on the cluster: `conn` to pass on, `auditor` to record."""

    settings: Settings
    conn: KubeConnection
    auditor: Auditor


def open_cluster(settings: Settings, fleet: FleetState | None = None) -> ClusterSession:
    """A session on `fleet`'s connection when it has one, else on a new connection from the
    settings' kubeconfig and context (KubeConfigError names the problem in one line)."""
    conn = fleet.connection if fleet is not None and fleet.connection is not None else None
    if conn is None:
        conn = connect(settings)
        # Before the first request: a server answering `{}` must not read as "forbidden".
        check_identity(conn)
    return ClusterSession(settings, conn, Auditor(settings, conn))
