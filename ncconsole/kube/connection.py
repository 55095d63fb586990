"""Connecting to the cluster: kubeconfig or in-cluster config, and raw JSON requests.

Everything here speaks raw JSON (the client's model deserialisation is far too slow for
thousands of pods): `KubeConnection.get_json` for one request, `open_stream` for a watch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ncconsole.errors import NcConsoleError
from ncconsole.kube.credentials import set_timeout, take_failure
from ncconsole.settings import Settings

DEFAULT_KUBECONFIG = "~/.kube/config"
# (connect, read) seconds for ordinary requests; watches pass their own read timeout.
REQUEST_TIMEOUT = (5.0, 30.0)
# The identity check at connect: short, since a slow or absent server is judged later.
IDENTITY_TIMEOUT = (3.0, 5.0)

# urllib3 logs every retry as a WARNING; with no handler configured Python prints those on
# stderr, right across the TUI. Failures reach the user through the banner instead.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


class KubeConfigError(NcConsoleError):
    """The kubeconfig is missing or malformed, or the context does not exist."""


class ApiUnreachable(NcConsoleError):
    """The API server did not answer (connection refused, reset, timeout, TLS failure)."""


class NotKubernetes(ApiUnreachable):
    """The server answered, but not the way a Kubernetes API server does (a web server, a
    login page, a proxy): nothing it says can be read as the fleet's state."""


def not_kubernetes(cluster: str, path: str, what: str, method: str = "GET") -> NotKubernetes:
    return NotKubernetes(
        f"not a Kubernetes API server at {cluster} ({method} {path} answered {what}); "
        "check the kubeconfig's cluster server URL"
    )


class ApiStatusError(NcConsoleError):
    """The API server answered with an error status (403, 404, 410, ...)."""

    def __init__(self, status: int, reason: str, message: str = "") -> None:
        super().__init__(f"API error {status} {reason}: {message}".rstrip(": "))
        self.status = status
        self.reason = reason
        self.message = message


@dataclass
class KubeConnection:
    """An authenticated API client plus where it points, for the header and the banner."""

    api: k8s_client.ApiClient
    context: str
    cluster: str
    # What discovery found out about this cluster, asked once (e.g. the ESO API version).
    discovered: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def _serialize(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> tuple[Any, ...]:
        params = [(key, value) for key, value in (query or {}).items() if value is not None]
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        return self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )

    def _call(self, serialized: tuple[Any, ...], timeout: Any) -> Any:
        try:
            return self.api.call_api(*serialized, _request_timeout=timeout)
        except ApiException as err:  # status 0: the client's wrapper for TLS failures
            raise ApiUnreachable(f"TLS error talking to {self.cluster}: {err.reason}") from None
        except urllib3.exceptions.HTTPError as err:
            raise ApiUnreachable(_describe_network_error(err, self.cluster)) from None

    def request_json(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: Any = REQUEST_TIMEOUT,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One request; the decoded JSON body, or ApiStatusError / ApiUnreachable.
        PATCH needs a patch `content_type`, e.g. application/merge-patch+json."""
        response = self._call(self._serialize(method, path, query, body, content_type), timeout)
        try:
            data = response.read()
        except urllib3.exceptions.HTTPError as err:
            raise ApiUnreachable(_describe_network_error(err, self.cluster)) from None
        if not 200 <= response.status <= 299:
            if response.status == 404 and _status_body(data) is None:
                # Every Kubernetes error carries a Status; a bare 404 is some other server.
                raise not_kubernetes(self.cluster, path, "404 without a Kubernetes Status")
            raise status_error(response.status, response.reason or "", data)
        try:
            answer = json.loads(data)
        except ValueError:
            raise not_kubernetes(self.cluster, path, "something that is not JSON") from None
        if not isinstance(answer, dict):
            raise not_kubernetes(self.cluster, path, "JSON that is not an object")
        return answer

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request_json("GET", path, query)

    def get_list(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        """A list request; NotKubernetes unless the answer is a Kubernetes list (items and
        list metadata), so an empty `{}` from some other server never reads as "no pods"."""
        data = self.get_json(path, query)
        if not isinstance(data.get("items"), list | None) or "items" not in data:
            raise not_kubernetes(self.cluster, path, "no list of items")
        if not isinstance(data.get("metadata"), dict):
            raise not_kubernetes(self.cluster, path, "a list without metadata")
        return data

    def get_text(self, path: str, query: dict[str, Any] | None = None) -> str:
        """One GET of a plain-text answer (pods/log); ApiStatusError / ApiUnreachable."""
        serialized = self._serialize("GET", path, query, accept="*/*")
        response = self._call(serialized, REQUEST_TIMEOUT)
        try:
            data = response.read()
        except urllib3.exceptions.HTTPError as err:
            raise ApiUnreachable(_describe_network_error(err, self.cluster)) from None
        if not 200 <= response.status <= 299:
            raise status_error(response.status, response.reason or "", data)
        return data.decode("utf-8", errors="replace")

    def open_stream(
        self,
        path: str,
        query: dict[str, Any],
        read_timeout: float,
        accept: str = "application/json",
    ) -> Any:
        """Start a watch (or a followed log); returns the urllib3 response to read from."""
        response = self._call(
            self._serialize("GET", path, query, accept=accept), (5.0, read_timeout)
        )
        if not 200 <= response.status <= 299:
            raise status_error(response.status, response.reason or "", response.read())
        return response.response

    def close(self) -> None:
        self.api.close()


def _status_body(body: bytes | str | None) -> dict[str, Any] | None:
    """The Kubernetes Status object in an error answer, or None when there is none."""
    try:
        parsed = json.loads(body or b"")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and parsed.get("kind") == "Status" else None


def status_error(status: int, reason: str, body: bytes | str | None) -> ApiStatusError:
    """An ApiStatusError carrying the message of a Kubernetes Status body, if there is one."""
    message = ""
    try:
        parsed = json.loads(body or b"")
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or "")
    except ValueError:
        pass
    return ApiStatusError(status, reason, message)


def abort_stream(response: Any) -> None:
    """Unblock a thread reading a watch stream (used on shutdown)."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe_network_error(err: Exception, cluster: str) -> str:
    reason = getattr(err, "reason", None) or err
    text = str(reason)
    if "Connection refused" in text:
        return f"connection refused by {cluster}"
    if "timed out" in text.lower():
        return f"timeout talking to {cluster}"
    if "SSL" in text or "certificate" in text:
        return f"TLS error talking to {cluster}: {text}"
    return f"cannot reach {cluster}: {text}"


def kubeconfig_path(settings: Settings) -> str:
    """The kubeconfig file(s): --kubeconfig, else $KUBECONFIG, else ~/.kube/config."""
    if settings.kubeconfig is not None:
        return str(Path(settings.kubeconfig).expanduser())
    return os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG


class CredentialPluginError(KubeConfigError):
    """The context's exec credential plugin failed, or did not answer in time."""


def connect(settings: Settings) -> KubeConnection:
    """Build a client from the kubeconfig (or in-cluster config when there is none).

    Raises KubeConfigError with one line naming the file or context on any problem, and
    CredentialPluginError when the context's exec plugin fails or hangs (kube/credentials.py).
    """
    resolved = _resolve_context(settings)
    if resolved is None:
        return _connect_in_cluster()
    path, name = resolved
    configuration = k8s_client.Configuration()
    take_failure()
    set_timeout(settings.credential_plugin_timeout)
    try:
        k8s_config.load_kube_config(
            config_file=path,
            context=name,
            client_configuration=configuration,
            persist_config=False,
        )
    except Exception as err:
        raise KubeConfigError(f"{path}: cannot use context '{name}' ({_first_line(err)})") from None
    failure = take_failure()
    if failure:
        raise CredentialPluginError(f"{path}: context '{name}': {failure}")
    if "://" not in (configuration.host or ""):
        raise KubeConfigError(
            f"{path}: context '{name}' has no cluster server URL (clusters[].cluster.server)"
        )
    return KubeConnection(_client(configuration), name, configuration.host)


def exec_plugin(settings: Settings) -> str:
    """The command of the context's exec credential plugin ("" when it has none), read from
    the kubeconfig without running anything; KubeConfigError like `connect`."""
    resolved = _resolve_context(settings)
    if resolved is None:
        return ""
    path, name = resolved
    try:
        merged = k8s_config.kube_config.KubeConfigMerger(path).config.value
        contexts = {_value(c).get("name"): _value(c) for c in merged.get("contexts") or ()}
        user_name = (contexts[name].get("context") or {}).get("user")
        users = {_value(u).get("name"): _value(u) for u in merged.get("users") or ()}
        command = ((users.get(user_name) or {}).get("user") or {}).get("exec", {}).get("command")
    except (AttributeError, KeyError, TypeError):
        return ""  # connect() names what is wrong with it
    return str(command or "")


def _value(node: Any) -> dict[str, Any]:
    value = getattr(node, "value", node)
    return value if isinstance(value, dict) else {}


def _resolve_context(settings: Settings) -> tuple[str, str] | None:
    """(kubeconfig path, context name) to use, None for the in-cluster config;
    KubeConfigError naming the file or context when neither can be used."""
    path = kubeconfig_path(settings)
    files = [Path(p).expanduser() for p in path.split(os.pathsep) if p]
    explicit = settings.kubeconfig is not None or "KUBECONFIG" in os.environ
    if not any(f.is_file() for f in files):
        if not explicit and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return None
        raise KubeConfigError(
            f"{path}: kubeconfig not found; pass --kubeconfig FILE or set KUBECONFIG"
        )
    try:
        names, current = _context_names(path)
    except (ConfigException, OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise KubeConfigError(f"{path}: malformed kubeconfig ({_first_line(err)})") from None
    except Exception as err:  # yaml errors and other parse failures from the loader
        raise KubeConfigError(f"{path}: malformed kubeconfig ({_first_line(err)})") from None
    name = settings.context or current
    if not name:
        raise KubeConfigError(f"{path}: no current context; pass --context NAME")
    if name not in names:
        known = ", ".join(n for n in names if n) or "none"
        which = "context" if settings.context else "current context"
        raise KubeConfigError(f"{path}: {which} '{name}' not found (known: {known})")
    return path, name


def check_identity(conn: KubeConnection, *, require_answer: bool = False) -> None:
    """NotKubernetes when the server answers, but not as a Kubernetes API server. For actions,
    before their first request (an access review answered `{}` would read as "forbidden"); the
    fleet's lists and heartbeat check every answer themselves. A server that does not answer
    is left to the requests that follow, which say so (or raises, with `require_answer`)."""
    try:
        data = conn.request_json("GET", "/version", timeout=IDENTITY_TIMEOUT)
    except NotKubernetes:
        raise
    except (ApiUnreachable, ApiStatusError):  # down, or 401/403: a Kubernetes answer
        if require_answer:
            raise
        return
    version = data.get("gitVersion")
    if not isinstance(version, str) or not version:
        raise not_kubernetes(conn.cluster, "/version", "without a gitVersion")


def kube_contexts(settings: Settings) -> list[str]:
    """The context names of the settings' kubeconfig, for a context chooser; [] when the
    kubeconfig is missing or unreadable (connecting then names the problem)."""
    try:
        names, _ = _context_names(kubeconfig_path(settings))
    except Exception:  # any parse failure: the chooser just offers no contexts
        return []
    return sorted(names)


def _context_names(path: str) -> tuple[list[str], str | None]:
    """The context names in the (merged) kubeconfig and its current-context. Read without
    activating a context: a current-context naming a missing context must not stop --context
    from choosing a good one (kubectl allows that too)."""
    merged = k8s_config.kube_config.KubeConfigMerger(path).config
    if merged is None or not isinstance(merged.value, dict):
        raise ConfigException("no configuration found")
    names = []
    for context in merged.value.get("contexts") or []:
        value = getattr(context, "value", context)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            names.append(value["name"])
    current = merged.value.get("current-context")
    return names, current if isinstance(current, str) and current else None


def _connect_in_cluster() -> KubeConnection:
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except ConfigException as err:
        raise KubeConfigError(f"in-cluster config: {_first_line(err)}") from None
    return KubeConnection(_client(configuration), "in-cluster", configuration.host)


def _client(configuration: k8s_client.Configuration) -> k8s_client.ApiClient:
    # Several watches plus probes' secret reads share one pool; urllib3's default of 1
    # connection per host would make them queue (and log warnings).
    configuration.connection_pool_maxsize = 16
    # One quick retry covers a stale pooled connection; the watch loops do the real backoff.
    configuration.retries = urllib3.Retry(total=1, backoff_factor=0, raise_on_status=False)
    return k8s_client.ApiClient(configuration)


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def context_user(settings: Settings, context: str) -> str:
    """The kubeconfig user name of `context` (who the cluster sees), "" when unknown."""
    try:
        contexts, _ = k8s_config.list_kube_config_contexts(config_file=kubeconfig_path(settings))
    except Exception:  # in-cluster, or an unreadable file: identity stays unknown
        return ""
    for item in contexts or []:
        if isinstance(item, dict) and item.get("name") == context:
            return str((item.get("context") or {}).get("user") or "")
    return ""
