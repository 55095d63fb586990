"""Outside-in Nextcloud check: GET https://<hostname>/status.php.

With `web.connect_to` set, the request goes to that host:port instead, carrying the tenant's
Host header and TLS SNI, and the certificate is verified for the tenant's hostname — what
`curl --resolve` does. Every failure becomes one precise line in `StatusPhpProbe.error`.
"""

from __future__ import annotations

import json
import ssl
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from ncconsole.probes.results import StatusPhpProbe
from ncconsole.settings import WebSettings


def _verify(web: WebSettings) -> ssl.SSLContext | bool:
    if web.insecure:
        return False
    if web.ca_file is not None:
        return ssl.create_default_context(cafile=str(web.ca_file))
    return True


class StatusPhpProber:
    """Thread-safe; one instance serves every tenant. Close it when done."""

    def __init__(self, web: WebSettings) -> None:
        self.web = web
        # No keep-alive: with connect_to every tenant shares one origin, and a pooled
        # connection would carry another tenant's SNI and certificate check.
        self._client = httpx.Client(
            verify=_verify(web),
            timeout=web.timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"Accept": "application/json", "User-Agent": "ncconsole"},
        )

    def close(self) -> None:
        self._client.close()

    def url_for(self, hostname: str) -> str:
        return f"{self.web.scheme}://{self.web.connect_to or hostname}/status.php"

    def probe(self, hostname: str) -> StatusPhpProbe:
        started = time.perf_counter()
        checked_at = datetime.now(UTC)

        def result(**fields: Any) -> StatusPhpProbe:
            latency = (time.perf_counter() - started) * 1000
            return StatusPhpProbe(checked_at=checked_at, latency_ms=latency, **fields)

        headers: dict[str, str] = {}
        extensions: dict[str, Any] = {}
        if self.web.connect_to:
            headers["Host"] = hostname
            if self.web.scheme == "https":
                extensions["sni_hostname"] = hostname
        try:
            response = self._client.get(
                self.url_for(hostname), headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            return result(ok=False, error=f"timeout after {self.web.timeout:g} s")
        except httpx.ConnectError as err:
            return result(ok=False, error=_connect_error(err, self.web.connect_to or hostname))
        except httpx.HTTPError as err:
            return result(ok=False, error=f"request failed: {_first_line(err)}")
        return _interpret(response, result)


def _interpret(response: httpx.Response, result: Any) -> StatusPhpProbe:
    status = response.status_code
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


def _json_body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _connect_error(err: httpx.ConnectError, target: str) -> str:
    text = _first_line(err)
    lowered = text.lower()
    if "refused" in lowered:
        return f"connection refused by {target}"
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return f"TLS error: {text}"
    if "name or service" in lowered or "nodename" in lowered or "resolution" in lowered:
        return f"cannot resolve {target}"
    return f"cannot connect to {target}: {text}"


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
