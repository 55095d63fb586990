"""How the console reaches a shared platform component: a direct address from the settings, or
a port-forward through the Kubernetes API to a Ready pod behind its Service, with credentials
from the Secret the settings name. Used by the platform reading and by the silence actions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.portforward import LocalPortForward, resolve_service
from ncconsole.kube.secrets import read_secret_values
from ncconsole.platform.model import Endpoint
from ncconsole.settings import PlatformComponent, Settings


class ComponentUnreachable(NcConsoleError):
    """The component cannot be reached (no Service, no Ready pod, no Secret, no cluster)."""


class Access:
    """An open way to one component: `endpoint` to connect to, and, for a port-forward, the
    last error its streams reported (the pod's "connection refused" says more than the
    client's "connection closed")."""

    def __init__(self, endpoint: Endpoint, forward: LocalPortForward | None = None) -> None:
        self.endpoint = endpoint
        self.forward = forward

    @property
    def forward_error(self) -> str:
        return self.forward.last_error if self.forward else ""


def _namespace(settings: Settings, component: PlatformComponent) -> str:
    return component.namespace or settings.platform_namespace


def _split_address(address: str, name: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ComponentUnreachable(f"setting platform.{name}.address '{address}': use HOST:PORT")
    return host.strip("[]"), int(port)


def credentials(
    settings: Settings, component: PlatformComponent, conn: KubeConnection | None, name: str
) -> tuple[str, str]:
    """(username, password): the settings' own values first, else the named Secret's keys."""
    username, password = component.username or "", component.password or ""
    secret = component.credentials_secret
    if password or not secret:
        return username, password
    namespace = _namespace(settings, component)
    where = f"Secret {namespace}/{secret} (platform.{name}.credentials_secret)"
    if conn is None:
        raise ComponentUnreachable(f"{where}: no cluster connection to read it")
    try:
        values = read_secret_values(conn, namespace, secret)
    except ApiStatusError as err:
        why = {404: "not found", 403: "forbidden"}.get(err.status, f"HTTP {err.status}")
        raise ComponentUnreachable(f"{where}: {why}") from None
    except ApiUnreachable as err:
        raise ComponentUnreachable(f"{where}: {err}") from None
    if component.password_key not in values:
        raise ComponentUnreachable(f"{where} has no key '{component.password_key}'")
    if not username and component.username_key:
        username = values.get(component.username_key, "")
    return username, values[component.password_key]


@contextlib.contextmanager
def open_access(
    settings: Settings, component: PlatformComponent, conn: KubeConnection | None, name: str
) -> Iterator[Access]:
    """An endpoint for `component` for the duration of the block (a port-forward is closed
    after it). ComponentUnreachable names what is missing; the caller decides how to show it."""
    username, password = credentials(settings, component, conn, name)
    if component.address:
        host, port = _split_address(component.address, name)
        yield Access(Endpoint(host, port, username, password, via=component.address))
        return
    if not component.service:
        raise ComponentUnreachable("not configured")
    if conn is None:
        raise ComponentUnreachable(
            f"port-forward to {_namespace(settings, component)}/{component.service}: "
            "no cluster connection"
        )
    namespace = _namespace(settings, component)
    try:
        target = resolve_service(conn, namespace, component.service, component.port)
    except ApiUnreachable as err:  # PortForwardError included: it names the Service
        raise ComponentUnreachable(str(err)) from None
    except ApiStatusError as err:
        raise ComponentUnreachable(
            f"port-forward to {namespace}/{component.service}: {err}"
        ) from None
    forward = LocalPortForward(conn, target, timeout=component.timeout)
    try:
        yield Access(
            Endpoint(forward.host, forward.port, username, password, via=target.label), forward
        )
    finally:
        forward.close()
