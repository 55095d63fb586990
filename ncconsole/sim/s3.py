"""The simulated platform's S3: one bucket per tenant holding Nextcloud-style `urn:oid:<id>`
objects, served by moto's ThreadedMotoServer on 127.0.0.1 — or an external S3 (e.g. a real
Ceph RGW) when an endpoint and keys are given.

Each tenant gets its own access/secret key pair for its Secret. moto accepts any key, so the
pairs are not enforced there; an external endpoint uses the keys it was given for every tenant.
Buckets on moto are seeded through moto's in-process backend: thousands of tenants in well
under a second, where one HTTP request per bucket and object would take minutes.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ncconsole.errors import NcConsoleError
from ncconsole.sim.scenario import TenantSpec

_KEY_ALPHABET = string.ascii_uppercase + string.digits


class S3ServiceError(NcConsoleError):
    """The simulated or external S3 cannot be used."""


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls) -> S3Credentials:
        access = "NCSIM" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(15))
        return cls(access, secrets.token_urlsafe(30)[:40])


@dataclass(frozen=True)
class ExternalS3:
    """An S3 endpoint outside the simulator, e.g. Ceph RGW, and the keys to use on it."""

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    verify: bool | str = True  # False, or a CA bundle path


class S3Service:
    """Start it, `provision` the tenants' buckets, hand out `endpoint_url` and `credentials`."""

    def __init__(
        self, external: ExternalS3 | None = None, region: str = "us-east-1", host: str = "127.0.0.1"
    ) -> None:
        self.external = external
        self.region = external.region if external else region
        self._host = host
        self._server: Any = None
        self._endpoint: str | None = external.endpoint_url if external else None
        self._credentials: dict[str, S3Credentials] = {}
        self._created: set[str] = set()
        self._next_file_id = 1000

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        """Start moto (no-op for an external endpoint); returns the endpoint URL."""
        if self.external is None and self._server is None:
            from moto.server import ThreadedMotoServer

            # werkzeug logs every request to stderr; the simulator's output must stay clean.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            self._server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self._endpoint = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        """Stop moto and drop the buckets this service made (moto keeps state per process)."""
        if self._server is not None:
            for bucket in list(self._created):
                self.delete_bucket(bucket)
            self._server.stop()
            self._server = None

    def __enter__(self) -> S3Service:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._endpoint is None:
            raise S3ServiceError("the simulated S3 is not started")
        return self._endpoint

    # -- tenants ---------------------------------------------------------------------------
    def provision(self, tenants: Iterable[TenantSpec], objects_per_bucket: int = 3) -> None:
        """Keys for every tenant; a bucket with objects unless its bucket is to be missing."""
        for tenant in tenants:
            if tenant.name not in self._credentials:  # a tenant seen again keeps its keys
                self._credentials[tenant.name] = (
                    S3Credentials(self.external.access_key, self.external.secret_key)
                    if self.external
                    else S3Credentials.generate()
                )
            if tenant.faults.bucket_missing:
                if self.bucket_exists(tenant.bucket):
                    self.delete_bucket(tenant.bucket)
                continue
            self.create_bucket(tenant.bucket)
            self.put_objects(tenant.bucket, objects_per_bucket)

    def credentials(self, tenant: str) -> S3Credentials:
        try:
            return self._credentials[tenant]
        except KeyError:
            raise S3ServiceError(f"tenant '{tenant}' has no S3 keys; provision it first") from None

    # -- buckets ---------------------------------------------------------------------------
    def client(self, credentials: S3Credentials | None = None) -> Any:
        """A boto3 S3 client on this endpoint with path-style addressing."""
        creds = credentials or (
            S3Credentials(self.external.access_key, self.external.secret_key)
            if self.external
            else S3Credentials("NCSIMPLATFORM", "simulated")
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            verify=self.external.verify if self.external else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def create_bucket(self, name: str) -> None:
        """Create `name`; one that exists already is kept (a tenant's Application deleted and
        generated again must not fail on its bucket)."""
        if self.external is None:
            if name not in _moto_backend().buckets:
                _moto_backend().create_bucket(name, self.region)
        else:
            try:
                self.client().create_bucket(Bucket=name)
            except ClientError as err:
                if err.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                    raise S3ServiceError(f"bucket {name}: {err}") from None
            except BotoCoreError as err:
                raise S3ServiceError(f"{self.endpoint_url}: {err}") from None
        self._created.add(name)

    def bucket_exists(self, name: str) -> bool:
        if self.external is None:
            return name in _moto_backend().buckets
        try:
            self.client().head_bucket(Bucket=name)
        except ClientError:
            return False
        return True

    def delete_bucket(self, name: str) -> None:
        """Delete a bucket and everything in it (the bucket-missing fault, made live)."""
        self._created.discard(name)
        if self.external is None:
            backend = _moto_backend()
            if name in backend.buckets:
                for key in list(backend.buckets[name].keys.keys()):
                    backend.delete_object(name, key)
                backend.delete_bucket(name)
            return
        client = self.client()
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=name, Delete={"Objects": keys})
            client.delete_bucket(Bucket=name)
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise S3ServiceError(f"bucket {name}: {err}") from None

    def put_objects(self, bucket: str, count: int = 3, size: int = 2048) -> list[str]:
        """Add `count` objects named like Nextcloud's (`urn:oid:<fileid>`); returns the keys."""
        keys = []
        for _ in range(count):
            self._next_file_id += 1
            key = f"urn:oid:{self._next_file_id}"
            body = secrets.token_bytes(size + self._next_file_id % 512)
            if self.external is None:
                _moto_backend().put_object(bucket, key, body)
            else:
                self.client().put_object(Bucket=bucket, Key=key, Body=body)
            keys.append(key)
        return keys


def _moto_backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
