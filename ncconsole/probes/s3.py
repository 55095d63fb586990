"""Bucket check: HeadBucket with RGW's `read-stats`, never a listing.

Ceph RGW answers HeadBucket with X-RGW-Object-Count / X-RGW-Bytes-Used (from Ceph 20 only
when the request carries `?read-stats`, so it is always sent) and, to the bucket owner, quota
headers. Other S3 servers lack them: the fields stay None and the UI shows "n/a".

One signed HEAD per tenant (probes/sigv4.py) over connections kept alive to the endpoint
(probes/connections.py), each signed with that tenant's keys: botocore's per-call machinery
cost twice as much CPU as the request itself, and a client per tenant far more.
"""

from __future__ import annotations

import http.client
import ssl
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ncconsole.probes.connections import ConnectFailed, HttpPool
from ncconsole.probes.results import BucketProbe
from ncconsole.probes.sigv4 import Signer
from ncconsole.settings import S3Settings

# Bucket statistics and quota, Ceph RGW only.
STATS_QUERY = "read-stats"
USER_AGENT = "ncconsole"


def _context(s3: S3Settings) -> ssl.SSLContext:
    if s3.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if s3.ca_file is not None:
        return ssl.create_default_context(cafile=str(s3.ca_file))
    return ssl.create_default_context()


def _header_int(headers: dict[str, str], name: str) -> int | None:
    value = headers.get(name.lower())
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BucketProber:
    """Thread-safe; one instance for every tenant, each call signed with its own keys."""

    def __init__(self, s3: S3Settings) -> None:
        self.s3 = s3
        endpoint = urlsplit(s3.endpoint or f"https://s3.{s3.region}.amazonaws.com")
        https = endpoint.scheme != "http"
        self._host = endpoint.hostname or ""
        self._address = (self._host, endpoint.port or (443 if https else 80))
        # What the Host header and the signature name: the endpoint as written, port included.
        self._host_header = endpoint.netloc.rpartition("@")[2]
        self._prefix = endpoint.path.rstrip("/")
        self._signer = Signer(s3.region)
        # Every tenant's bucket is on the one endpoint: a few kept connections serve them all.
        self._pool = HttpPool(_context(s3) if https else None, s3.timeout, max(1, s3.concurrency))

    @property
    def pool(self) -> HttpPool:
        return self._pool

    def close(self) -> None:
        self._pool.close()

    def probe(self, bucket: str, access_key: str | None, secret_key: str | None) -> BucketProbe:
        checked_at = datetime.now(UTC)
        started = time.perf_counter()

        def result(state: str, **fields: Any) -> BucketProbe:
            latency = (time.perf_counter() - started) * 1000
            return BucketProbe(checked_at=checked_at, latency_ms=latency, state=state, **fields)

        if not access_key or not secret_key:
            return result("no-credentials", error="no S3 credentials (tenant Secret or settings)")
        path = f"{self._prefix}/{bucket}"
        headers = self._signer.headers(
            "HEAD", self._host_header, path, STATS_QUERY, access_key, secret_key, checked_at
        )
        headers["User-Agent"] = USER_AGENT
        try:
            answer = self._pool.request(
                "HEAD",
                self._address,
                f"{path}?{STATS_QUERY}",
                server_name=self._host,
                headers=headers,
            )
        except ConnectFailed as err:
            if isinstance(err.cause, TimeoutError):
                return result("timeout", error=f"timeout after {self.s3.timeout:g} s")
            if isinstance(err.cause, ssl.SSLError):
                return result("error", error=f"TLS error: {_first_line(err.cause)}")
            return result("unreachable", error=f"cannot reach {self.s3.endpoint or 'S3'}")
        except TimeoutError:
            return result("timeout", error=f"timeout after {self.s3.timeout:g} s")
        except (OSError, http.client.HTTPException) as err:
            return result("error", error=f"S3 request failed: {_first_line(err)}")
        if answer.status == 404:
            return result("missing", error=f"bucket {bucket} does not exist")
        if answer.status == 403:
            return result("denied", error=f"access to bucket {bucket} denied")
        if not 200 <= answer.status <= 299:
            return result("error", error=f"S3 error {answer.status}")
        headers = answer.headers
        return result(
            "ok",
            object_count=_header_int(headers, "X-RGW-Object-Count"),
            bytes_used=_header_int(headers, "X-RGW-Bytes-Used"),
            quota_max_size=_header_int(headers, "X-RGW-Quota-Bucket-Size"),
            quota_max_objects=_header_int(headers, "X-RGW-Quota-Bucket-Objects"),
        )


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
