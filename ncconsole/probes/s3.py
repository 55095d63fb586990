"""Bucket check: HeadBucket with RGW's `read-stats`, never a listing.

Ceph RGW answers HeadBucket with X-RGW-Object-Count / X-RGW-Bytes-Used (from Ceph 20 only
when the request carries `?read-stats`, so it is always sent) and, to the bucket owner, quota
headers. Other S3 servers lack them: the fields stay None and the UI shows "n/a".
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ncconsole.probes.results import BucketProbe
from ncconsole.settings import S3Settings

MISSING_CODES = {"404", "NoSuchBucket", "NotFound"}
DENIED_CODES = {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


# Credentials of the HeadBucket running on this thread: every tenant has its own keys, and one
# boto3 client per tenant would cost ~17 ms and ~330 KB each (minutes and GBs at 2,000
# tenants). One client signs each call with that call's keys instead.
_call = threading.local()


def prepare_head_bucket(request: Any, **_: Any) -> None:
    """botocore `before-sign` hook: add RGW's `read-stats` (signed with the request) and
    sign with the keys of the tenant being probed."""
    if "read-stats" not in request.url:
        request.url += ("&" if "?" in request.url else "?") + "read-stats"
    credentials = getattr(_call, "credentials", None)
    if credentials is not None:
        request.context.setdefault("signing", {})["request_credentials"] = credentials


def _header_int(headers: dict[str, str], name: str) -> int | None:
    value = headers.get(name.lower())
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BucketProber:
    """Thread-safe; one boto3 client for every tenant, each call signed with its own keys."""

    def __init__(self, s3: S3Settings) -> None:
        self.s3 = s3
        verify: bool | str = True
        if s3.insecure:
            verify = False
        elif s3.ca_file is not None:
            verify = str(s3.ca_file)
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=s3.endpoint,
            region_name=s3.region,
            # Replaced per call by prepare_head_bucket; never used to sign on their own.
            aws_access_key_id="unused",
            aws_secret_access_key="unused",
            verify=verify,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=s3.timeout,
                read_timeout=s3.timeout,
                retries={"total_max_attempts": 1},
                max_pool_connections=max(10, s3.concurrency),
            ),
        )
        self._client.meta.events.register("before-sign.s3.HeadBucket", prepare_head_bucket)

    def probe(self, bucket: str, access_key: str | None, secret_key: str | None) -> BucketProbe:
        checked_at = datetime.now(UTC)
        started = time.perf_counter()

        def result(state: str, **fields: Any) -> BucketProbe:
            latency = (time.perf_counter() - started) * 1000
            return BucketProbe(checked_at=checked_at, latency_ms=latency, state=state, **fields)

        if not access_key or not secret_key:
            return result("no-credentials", error="no S3 credentials (tenant Secret or settings)")
        _call.credentials = Credentials(access_key, secret_key)
        try:
            response = self._client.head_bucket(Bucket=bucket)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in MISSING_CODES or status == 404:
                return result("missing", error=f"bucket {bucket} does not exist")
            if code in DENIED_CODES or status == 403:
                return result("denied", error=f"access to bucket {bucket} denied")
            return result("error", error=f"S3 error {code or status}")
        except (ConnectTimeoutError, ReadTimeoutError):
            return result("timeout", error=f"timeout after {self.s3.timeout:g} s")
        except EndpointConnectionError:
            return result("unreachable", error=f"cannot reach {self.s3.endpoint or 'S3'}")
        except BotoCoreError as err:
            return result("error", error=str(err).splitlines()[0])
        finally:
            _call.credentials = None
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return result(
            "ok",
            object_count=_header_int(headers, "X-RGW-Object-Count"),
            bytes_used=_header_int(headers, "X-RGW-Bytes-Used"),
            quota_max_size=_header_int(headers, "X-RGW-Quota-Bucket-Size"),
            quota_max_objects=_header_int(headers, "X-RGW-Quota-Bucket-Objects"),
        )
