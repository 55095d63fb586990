"""Kept-alive HTTP(S) connections for the probes, pooled per (address, TLS server name).

A probe over a new TCP + TLS connection spent three quarters of its CPU on setting the
connection up. Here a connection is kept after its answer and reused by the next request to
the same address with the same SNI, and only that: another tenant's name gets its own
connection, so its certificate is checked for its own name. When a connection has to be
opened again (the server closed it, it sat idle too long, it was over the budget) it is a new
TLS handshake. TLS sessions are not kept for resumption: taking them from the socket
(`SSLSocket.session`) grew the process's native memory by ~20 MB a minute at 1,000 tenants over
a budget of 200, without end, and cost more CPU than the resumed handshakes saved (measured
against the simulator, benchmarks/RESULTS.md).

Built on http.client rather than httpx: on a kept-alive connection a request costs 0.11 ms of
CPU against httpx's 0.55 ms (measured against the simulator), and the probes make a few
hundred a second at fleet scale. Kept connections cost memory (~30 kB each, OpenSSL's buffers),
so their number is bounded; tenants over the budget reconnect.
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass

# Servers drop idle connections after a while (nginx and aiohttp: 75 s, Apache: 5 s); one
# idle longer than this is not offered for reuse.
IDLE_EXPIRY = 60.0
# status.php and HeadBucket answers are tiny; a host answering with more is not Nextcloud.
MAX_BODY = 256 * 1024
# File descriptors left for everything else when the kept connections are bounded by them.
RESERVED_FDS = 256

Key = tuple[str, int, str]  # address host, port, TLS server name ("" for plain HTTP)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    # False when the body was longer than MAX_BODY and was cut there.
    complete: bool = True


class ConnectFailed(Exception):
    """The TCP connection or the TLS handshake failed; `cause` is the OSError."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


# A kept connection whose server hung up between requests fails like this on reuse.
_STALE = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class _Connection(http.client.HTTPConnection):
    """HTTP/1.1 to one address; with a TLS context, `server_name` is the SNI and the name
    the certificate is verified for (what `curl --resolve` does)."""

    def __init__(
        self,
        key: Key,
        context: ssl.SSLContext | None,
        timeout: float,
    ) -> None:
        super().__init__(key[0], key[1], timeout=timeout)
        self.key = key
        self.context = context
        self.idle_since = 0.0

    def connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), self.timeout)
            if self.context is not None:
                try:
                    sock = self.context.wrap_socket(sock, server_hostname=self.key[2])
                except BaseException:
                    sock.close()
                    raise
        except OSError as err:
            raise ConnectFailed(err) from err
        self.sock = sock

    def dropped(self) -> bool:
        """Whether the server closed (or wrote to) this idle connection: either makes it
        unusable for the next request."""
        sock = self.sock
        if sock is None:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))


class HttpPool:
    """Thread-safe requests over kept-alive connections; see the module docstring.

    `max_idle` bounds the connections kept between requests. Close the pool when done.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        max_idle: int,
        idle_expiry: float = IDLE_EXPIRY,
    ) -> None:
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.max_idle = min(max(0, max_idle), _fd_budget())
        self.idle_expiry = idle_expiry
        self._lock = threading.Lock()
        self._idle: dict[Key, list[_Connection]] = {}
        self._idle_count = 0
        self._swept = time.monotonic()
        # For tests and the benchmark: how requests found their connection.
        self.reused = 0
        self.opened = 0

    @property
    def kept(self) -> int:
        """Connections kept open for reuse right now."""
        return self._idle_count

    def request(
        self,
        method: str,
        address: tuple[str, int],
        path: str,
        *,
        server_name: str,
        headers: dict[str, str],
    ) -> Answer:
        """One request; raises ConnectFailed, TimeoutError, OSError or HTTPException.

        A kept connection that the server closed meanwhile is replaced by a new one, once
        (GET and HEAD may be sent again).
        """
        key = (address[0], address[1], server_name if self.ssl_context else "")
        conn = self._checkout(key)
        if conn is not None:
            try:
                return self._exchange(conn, method, path, headers)
            except _STALE:
                pass
        return self._exchange(self._open(key), method, path, headers)

    def close(self) -> None:
        with self._lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
            self._idle_count = 0
        for conn in idle:
            conn.close()

    # -- internals ----------------------------------------------------------------------------

    def _open(self, key: Key) -> _Connection:
        conn = _Connection(key, self.ssl_context, self.timeout)
        conn.connect()
        self.opened += 1
        return conn

    def _exchange(
        self, conn: _Connection, method: str, path: str, headers: dict[str, str]
    ) -> Answer:
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_BODY + 1)
            answer = Answer(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                body[:MAX_BODY],
                complete=len(body) <= MAX_BODY,
            )
            reusable = response.isclosed() and not response.will_close
        except BaseException:
            conn.close()
            raise
        self._checkin(conn, reusable)
        return answer

    def _checkout(self, key: Key) -> _Connection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                conns = self._idle.get(key)
                if not conns:
                    return None
                conn = conns.pop()
                if not conns:
                    del self._idle[key]
                self._idle_count -= 1
            if now - conn.idle_since < self.idle_expiry and not conn.dropped():
                self.reused += 1
                return conn
            conn.close()

    def _checkin(self, conn: _Connection, reusable: bool) -> None:
        now = time.monotonic()
        if reusable:
            with self._lock:
                if self._idle_count < self.max_idle:
                    conn.idle_since = now
                    self._idle.setdefault(conn.key, []).append(conn)
                    self._idle_count += 1
                    conn = None  # type: ignore[assignment]
        if conn is not None:
            conn.close()
        if now - self._swept > self.idle_expiry:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Close connections idle past the expiry (tenants no longer probed, for one)."""
        with self._lock:
            self._swept = now
            expired: list[_Connection] = []
            for key in list(self._idle):
                conns = self._idle[key]
                keep = [c for c in conns if now - c.idle_since < self.idle_expiry]
                expired.extend(c for c in conns if now - c.idle_since >= self.idle_expiry)
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            self._idle_count -= len(expired)
        for conn in expired:
            with contextlib.suppress(OSError):
                conn.close()


def _fd_budget() -> int:
    """How many connections may be kept without running the process out of file descriptors.
    The soft limit is raised to the hard one first (often 1,024 → 524,288), as Go does."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
    except (ValueError, OSError):
        return 0
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(0, (soft - RESERVED_FDS) // 2)
