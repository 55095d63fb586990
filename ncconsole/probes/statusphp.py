"""Outside-in Nextcloud check: GET https://<hostname>/status.php.

With `web.connect_to` set, the request goes to that host:port instead, carrying the tenant's
Host header and TLS SNI, and the certificate is verified for the tenant's hostname — what
`curl --resolve` does. Every failure becomes one precise line in `StatusPhpProbe.error`.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from datetime import UTC, datetime
from typing import Any

from ncconsole.probes.connections import Answer, ConnectFailed, HttpPool
from ncconsole.probes.results import StatusPhpProbe
from ncconsole.settings import WebSettings

HEADERS = {"Accept": "application/json", "User-Agent": "ncconsole"}


def _context(web: WebSettings) -> ssl.SSLContext | None:
    if web.scheme != "https":
        return None
    if web.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if web.ca_file is not None:
        return ssl.create_default_context(cafile=str(web.ca_file))
    return ssl.create_default_context()


def _address(target: str, scheme: str) -> tuple[str, int]:
    """host:port (or [v6]:port) → (host, port), the scheme's port by default."""
    default = 443 if scheme == "https" else 80
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default
    host, sep, port = target.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return target, default


class StatusPhpProber:
    """Thread-safe; one instance serves every tenant, each over its own kept-alive connection
    (ncconsole.probes.connections). Close it when done."""

    def __init__(self, web: WebSettings) -> None:
        self.web = web
        self._pool = HttpPool(_context(web), web.timeout, web.keepalive)

    @property
    def pool(self) -> HttpPool:
        return self._pool

    def close(self) -> None:
        self._pool.close()

    def url_for(self, hostname: str) -> str:
        return f"{self.web.scheme}://{self.web.connect_to or hostname}/status.php"

    def probe(self, hostname: str) -> StatusPhpProbe:
        started = time.perf_counter()
        checked_at = datetime.now(UTC)

        def result(**fields: Any) -> StatusPhpProbe:
            latency = (time.perf_counter() - started) * 1000
            return StatusPhpProbe(checked_at=checked_at, latency_ms=latency, **fields)

        target = self.web.connect_to or hostname
        try:
            answer = self._pool.request(
                "GET",
                _address(target, self.web.scheme),
                "/status.php",
                server_name=hostname,
                headers={"Host": hostname, **HEADERS},
            )
        except ConnectFailed as err:
            if not isinstance(err.cause, TimeoutError):
                return result(ok=False, error=_connect_error(err.cause, target))
            return result(ok=False, error=f"timeout after {self.web.timeout:g} s")
        except TimeoutError:
            return result(ok=False, error=f"timeout after {self.web.timeout:g} s")
        except (OSError, http.client.HTTPException) as err:
            return result(ok=False, error=f"request failed: {_first_line(err)}")
        return _interpret(answer, result)


def _interpret(response: Answer, result: Any) -> StatusPhpProbe:
    status = response.status
    body = _json_body(response)
    if status == 400 and isinstance(body, dict) and body.get("code") == 15:
        return result(ok=False, http_status=status, error="trusted domain error: host not trusted")
    if status != 200:
        return result(ok=False, http_status=status, error=f"HTTP {status}")
    if not isinstance(body, dict):
        kind = "HTML" if "html" in response.headers.get("content-type", "") else "non-JSON"
        return result(ok=False, http_status=status, error=f"{kind} answer instead of JSON")
    installed = _bool(body.get("installed"))
    maintenance = _bool(body.get("maintenance"))
    needs_upgrade = _bool(body.get("needsDbUpgrade"))
    problems = []
    if installed is not True:
        problems.append("not installed")
    if maintenance:
        problems.append("maintenance mode")
    if needs_upgrade:
        problems.append("needs DB upgrade")
    return result(
        ok=not problems,
        http_status=status,
        installed=installed,
        maintenance=maintenance,
        needs_db_upgrade=needs_upgrade,
        version=str(body.get("version") or ""),
        versionstring=str(body.get("versionstring") or ""),
        error=", ".join(problems),
    )


def _json_body(response: Answer) -> Any:
    if not response.complete:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _connect_error(err: OSError, target: str) -> str:
    if isinstance(err, ConnectionRefusedError):
        return f"connection refused by {target}"
    if isinstance(err, ssl.SSLError):
        return f"TLS error: {_first_line(err)}"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve {target}"
    return f"cannot connect to {target}: {_first_line(err)}"


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
