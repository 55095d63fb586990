"""AWS Signature Version 4 for the bucket probe's one request (HEAD /bucket?read-stats).

botocore's request machinery cost the console twice a signed request's CPU per HeadBucket
(performance review §4); the signature itself is a few HMACs. This signs exactly what the
probe sends, path-style, with an empty payload, the way botocore does for HeadBucket
(tests compare the two), and caches each key's derived signing key for the day.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SERVICE = "s3"


def canonical_query(query: str) -> str:
    """`a=1&read-stats` → `a=1&read-stats=`: names and values URI-encoded, sorted."""
    pairs = []
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


class Signer:
    """Signs requests for one region; thread-safe. Signing keys are cached per access key
    and day (a handful of HMACs saved per request)."""

    def __init__(self, region: str) -> None:
        self.region = region
        # (access key, day) -> (the secret it was derived from, signing key)
        self._keys: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def headers(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        access_key: str,
        secret_key: str,
        now: datetime,
    ) -> dict[str, str]:
        """The headers to send (Host, X-Amz-Date, X-Amz-Content-SHA256, Authorization)."""
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        scope = f"{day}/{self.region}/{SERVICE}/aws4_request"
        signed = "host;x-amz-content-sha256;x-amz-date"
        canonical = "\n".join(
            (
                method,
                quote(path, safe="/-_.~"),
                canonical_query(query),
                f"host:{host}\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{stamp}\n",
                signed,
                EMPTY_SHA256,
            )
        )
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        key = self._signing_key(access_key, secret_key, day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return {
            "Host": host,
            "X-Amz-Date": stamp,
            "X-Amz-Content-SHA256": EMPTY_SHA256,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}"
            ),
        }

    def _signing_key(self, access_key: str, secret_key: str, day: str) -> bytes:
        cache_key = (access_key, day)
        with self._lock:
            cached = self._keys.get(cache_key)
        # A rotated secret under the same access key must not reuse the old signing key.
        if cached is not None and cached[0] == secret_key:
            return cached[1]
        key = f"AWS4{secret_key}".encode()
        for part in (day, self.region, SERVICE, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        with self._lock:
            if len(self._keys) > 50_000:  # days roll over: drop yesterday's keys
                self._keys.clear()
            self._keys[cache_key] = (secret_key, key)
        return key
