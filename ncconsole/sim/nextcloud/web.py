"""Every simulated tenant's Nextcloud web front, behind one loopback endpoint routed by Host.

Only `/status.php` is served, with Nextcloud's semantics: 200 with the status JSON even in
maintenance mode, 400 `{"error": "Trusted domain error.", "code": 15}` for a Host that is not
a trusted domain (an unknown host included), and the instance's web faults (500, 503, a slow
answer). A slow tenant never holds up another: delays are awaited, not slept.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

from aiohttp import web

from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.occ_output import php_json

# The exact body lib/base.php echoes for status.php on an untrusted domain.
TRUSTED_DOMAIN_ERROR = '{"error": "Trusted domain error.", "code": 15}'
_HEADERS = {"Server": "Apache/2.4.62 (Debian)", "X-Powered-By": "PHP/8.3.14"}
_UNAVAILABLE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Nextcloud</title></head><body>"
    "<h2>Internal Server Error</h2><p>The server was unable to complete your request.</p>"
    "</body></html>\n"
)

InstanceLookup = Callable[[str], NextcloudInstance | None]


def _host_name(header: str) -> str:
    if header.startswith("["):  # [::1]:443
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class NextcloudWeb:
    """An aiohttp server answering `/status.php` for whichever tenant the Host header names."""

    def __init__(
        self,
        instances: InstanceLookup,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._instances = instances
        self._ssl = ssl_context
        self._host = host
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self, port: int = 0) -> int:
        """Listen on host:port (0 = a free port); returns the port."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, port, ssl_context=self._ssl)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in(self, loop: asyncio.AbstractEventLoop, port: int = 0, timeout: float = 10) -> int:
        """Start from another thread on `loop`, which runs in its own thread."""
        return asyncio.run_coroutine_threadsafe(self.start(port), loop).result(timeout)

    def stop_in(self, loop: asyncio.AbstractEventLoop, timeout: float = 10) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path != "/status.php":
            return web.Response(
                status=404, text="The page could not be found on the server.\n", headers=_HEADERS
            )
        host = _host_name(request.host or "").lower()
        instance = self._instances(host)
        if instance is None or (instance.installed and not instance.is_trusted(host)):
            return web.Response(
                status=400,
                text=TRUSTED_DOMAIN_ERROR,
                content_type="application/json",
                headers=_HEADERS,
            )
        if instance.web_delay > 0:
            await asyncio.sleep(instance.web_delay)
        if instance.web_error == 500:
            # status.php catches the exception, logs it and sends an empty 500.
            return web.Response(status=500, body=b"", headers=_HEADERS)
        if instance.web_error is not None:
            return web.Response(
                status=instance.web_error,
                text=_UNAVAILABLE_PAGE,
                content_type="text/html",
                headers=_HEADERS,
            )
        return web.Response(
            text=php_json(instance.status_php()),
            content_type="application/json",
            headers={**_HEADERS, "Access-Control-Allow-Origin": "*"},
        )
