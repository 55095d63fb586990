"""Small real HTTP(S) servers for probe tests, each on its own thread and a free port."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# handler(method, path, headers) -> (status, headers, body)
Respond = Callable[[str, str, dict[str, str]], tuple[int, dict[str, str], bytes]]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out on purpose close the connection mid-answer


class ServerThread:
    """`keep_alive` answers HTTP/1.1 and keeps connections open, closing one after
    `idle_timeout` s without a request; `connections` records, per request, the client's
    (address, port) and whether its TLS session was resumed."""

    def __init__(
        self,
        respond: Respond,
        ssl_context: ssl.SSLContext | None = None,
        keep_alive: bool = False,
        idle_timeout: float | None = None,
    ) -> None:
        self.requests: list[tuple[str, str, dict[str, str], str]] = []
        self.connections: list[tuple[tuple[str, int], bool]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            timeout = idle_timeout

            def _serve(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                sni = getattr(self.connection, "server_hostname", None) or ""
                outer.requests.append((self.command, self.path, headers, sni))
                resumed = bool(getattr(self.connection, "session_reused", False))
                outer.connections.append((self.client_address, resumed))
                status, out_headers, body = respond(self.command, self.path, headers)
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = _serve
            do_HEAD = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
