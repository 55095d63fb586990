"""Exec credential plugins (a kubeconfig user's `exec:`), run with a timeout and off the
terminal.

The Kubernetes client runs a plugin with no timeout, hands it the terminal's stdin and
stderr when there is one, and logs a failure with `logging.error` on the root logger — so a
plugin that hangs hung the console (keys went to the plugin, the screen stayed blank), and
one that failed printed a stray `ERROR:root:` line across the screen, then the console ran
without credentials. Here the client's plugin runner is replaced (once, at import) by one
that: never touches the terminal (the console owns it; a plugin that needs a login prompt
must be run by the user first), stops a plugin after PLUGIN_TIMEOUT seconds, and records
the failure (with the plugin's stderr, one line) for `connect` to raise as one error. The
library's own log line for it is dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
from typing import Any

from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.exec_provider import ExecProvider

PLUGIN_TIMEOUT = 30.0  # the setting credential_plugin_timeout; `connect` passes it here
_failures = threading.local()


def set_timeout(seconds: float) -> None:
    """How long plugins may take from now on (also for token refreshes later)."""
    TimedExecProvider.timeout = seconds


def take_failure() -> str:
    """The last plugin failure in this thread ("" if none), and forget it."""
    failure = getattr(_failures, "message", "")
    _failures.message = ""
    return failure


def _fail(message: str) -> ConfigException:
    _failures.message = message
    return ConfigException(message)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class TimedExecProvider(ExecProvider):
    """ExecProvider.run without the terminal and with a timeout; see the module docstring."""

    timeout: float = PLUGIN_TIMEOUT

    def run(self, previous_response: Any = None) -> Any:
        info: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": {"interactive": False},
        }
        if previous_response:
            info["spec"]["response"] = previous_response
        if self.cluster:
            info["spec"]["cluster"] = self.cluster.value
        env = dict(self.env, KUBERNETES_EXEC_INFO=json.dumps(info))
        command = os.path.basename(str(self.args[0]))
        try:
            # Its own session, so a timeout stops whatever the plugin started too.
            proc = subprocess.Popen(
                self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, cwd=self.cwd, env=env, text=True,
                start_new_session=True,
            )  # fmt: skip
        except OSError as err:
            raise _fail(f"credential plugin '{command}' cannot be run ({err.strerror})") from None
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise _fail(
                f"credential plugin '{command}' did not answer within {self.timeout:g} s; "
                f"run it yourself (it may want a login) and try again"
            ) from None
        except BaseException:  # Ctrl-C: the plugin is in its own session, stop it too
            _stop(proc)
            raise
        if proc.returncode != 0:
            said = _first_line(stderr) or "no message"
            raise _fail(f"credential plugin '{command}' failed (exit {proc.returncode}): {said}")
        try:
            data = json.loads(stdout)
            status = data["status"]
            if not isinstance(status, dict):
                raise TypeError("status is not an object")
        except (ValueError, KeyError, TypeError) as err:
            raise _fail(
                f"credential plugin '{command}' answered no ExecCredential ({err})"
            ) from None
        if data.get("apiVersion") != self.api_version:
            raise _fail(
                f"credential plugin '{command}' answered apiVersion {data.get('apiVersion')}, "
                f"not {self.api_version}"
            )
        if "token" not in status and "clientKeyData" not in status:
            raise _fail(f"credential plugin '{command}' answered neither a token nor a key pair")
        return status


def _stop(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(BaseException):
        proc.communicate(timeout=5)


class _DropPluginLog(logging.Filter):
    """The client logs a plugin failure on the root logger; ours says it once, as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "root"
            and "kubernetes" in record.pathname
            and "config" in record.pathname
        )


def install() -> None:
    """Make the Kubernetes client use TimedExecProvider (idempotent)."""
    kube_config.ExecProvider = TimedExecProvider  # type: ignore[misc]
    root = logging.getLogger()
    if not any(isinstance(f, _DropPluginLog) for f in root.filters):
        root.addFilter(_DropPluginLog())


install()
