"""The promotion Lease (coordination.k8s.io/v1): one console promotes at a time.

Acquire creates the Lease, or takes over one that is released (no holder) or expired
(renewTime + leaseDurationSeconds < now) - always with the resourceVersion read as a
precondition, so two consoles racing for it cannot both win. While held, a background
thread renews it; `lost` says when someone else took it (then stop starting new work).
Release clears the holder, so the next console does not have to wait for expiry.
"""

from __future__ import annotations

import getpass
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, ApiUnreachable, KubeConnection
from ncconsole.kube.views import parse_time

LEASE_NAME = "ncconsole-promotion"
SESSION_ANNOTATION = "ncconsole.io/session"
WHAT_ANNOTATION = "ncconsole.io/promotion"


class LeaseHeld(NcConsoleError):
    """Another console holds the promotion Lease."""

    exit_code = 3

    def __init__(self, message: str, holder: str, expires: datetime | None) -> None:
        super().__init__(message)
        self.holder = holder
        self.expires = expires


def lease_path(namespace: str, name: str = "") -> str:
    base = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    return f"{base}/{name}" if name else base


def current_user() -> str:
    """The OS user running the console (for holder names and Argo CD's initiatedBy)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def default_holder() -> str:
    return f"{current_user()}@{socket.gethostname()}"


def _micro_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_expiry(lease: dict[str, Any]) -> datetime | None:
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    if renewed is None:
        return None
    return renewed + timedelta(seconds=int(spec.get("leaseDurationSeconds") or 0))


def lease_holder(lease: dict[str, Any] | None, now: datetime | None = None) -> str:
    """Who holds the Lease now ("" when nobody: absent, released or expired)."""
    if lease is None:
        return ""
    holder = str((lease.get("spec") or {}).get("holderIdentity") or "")
    expires = lease_expiry(lease)
    if not holder or expires is None or expires < (now or datetime.now(UTC)):
        return ""
    return holder


class PromotionLease:
    """`acquire()` (LeaseHeld if taken), `start_renewing()`, `release()`; or use `with`."""

    def __init__(
        self,
        conn: KubeConnection,
        namespace: str,
        *,
        name: str = LEASE_NAME,
        holder: str | None = None,
        duration: int = 30,
        purpose: str = "",
    ) -> None:
        self.conn = conn
        self.namespace = namespace
        self.name = name
        self.holder = holder or default_holder()
        self.duration = duration
        self.purpose = purpose
        self.session = str(uuid.uuid4())
        self.lost = threading.Event()
        self.lost_reason = ""
        self._rv = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> str:
        return lease_path(self.namespace, self.name)

    def read(self) -> dict[str, Any] | None:
        try:
            return self.conn.get_json(self.path)
        except ApiStatusError as err:
            if err.status == 404:
                return None
            raise

    def _body(self, current: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.name,
            "namespace": self.namespace,
            "annotations": {SESSION_ANNOTATION: self.session, WHAT_ANNOTATION: self.purpose},
            "labels": {"app.kubernetes.io/managed-by": "ncconsole"},
        }
        transitions = 0
        if current is not None:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            transitions = int((current.get("spec") or {}).get("leaseTransitions") or 0) + 1
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": self.duration,
                "acquireTime": _micro_time(now),
                "renewTime": _micro_time(now),
                "leaseTransitions": transitions,
            },
        }

    def refusal(self, lease: dict[str, Any] | None) -> LeaseHeld:
        holder = lease_holder(lease) or "another console"
        expires = lease_expiry(lease) if lease else None
        what = ((lease or {}).get("metadata") or {}).get("annotations", {}).get(WHAT_ANNOTATION)
        doing = f" ({what})" if what else ""
        until = f" until {expires.astimezone().strftime('%H:%M:%S')}" if expires else ""
        return LeaseHeld(
            f"promotion Lease {self.namespace}/{self.name} is held by {holder}{doing}{until} "
            "unless renewed; wait for that promotion to end",
            holder,
            expires,
        )

    def acquire(self) -> None:
        now = datetime.now(UTC)
        current = self.read()
        if current is not None and lease_holder(current, now):
            raise self.refusal(current)
        body = self._body(current, now)
        try:
            if current is None:
                stored = self.conn.request_json("POST", lease_path(self.namespace), None, body)
            else:
                stored = self.conn.request_json("PUT", self.path, None, body)
        except ApiStatusError as err:
            if err.status == 409:  # someone else created or took it between read and write
                raise self.refusal(self.read()) from None
            raise
        self._rv = stored["metadata"]["resourceVersion"]

    def renew(self) -> bool:
        """Extend the Lease; False (and `lost` set) when it is no longer ours."""
        current = self.read()
        annotations = ((current or {}).get("metadata") or {}).get("annotations") or {}
        if current is None or annotations.get(SESSION_ANNOTATION) != self.session:
            self._lose("the promotion Lease was taken over or deleted")
            return False
        body = dict(current)
        body["spec"] = {**(current.get("spec") or {}), "renewTime": _micro_time(datetime.now(UTC))}
        try:
            stored = self.conn.request_json("PUT", self.path, None, body)
        except ApiStatusError as err:
            if err.status == 409:
                self._lose("the promotion Lease changed under us")
                return False
            raise
        self._rv = stored["metadata"]["resourceVersion"]
        return True

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()

    def start_renewing(self, interval: float | None = None) -> None:
        every = interval if interval is not None else max(1.0, self.duration / 3)

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    if not self.renew():
                        return
                except (ApiStatusError, ApiUnreachable):
                    continue  # a blip; the Lease lasts `duration`, try again next round

        self._thread = threading.Thread(target=loop, name="lease-renew", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop renewing and clear the holder (best effort: it expires anyway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.lost.is_set():
            return
        try:
            current = self.read()
            annotations = ((current or {}).get("metadata") or {}).get("annotations") or {}
            if current is None or annotations.get(SESSION_ANNOTATION) != self.session:
                return
            body = dict(current)
            spec = current.get("spec") or {}
            body["spec"] = {k: v for k, v in spec.items() if k != "holderIdentity"}
            self.conn.request_json("PUT", self.path, None, body)
        except (ApiStatusError, ApiUnreachable):
            pass

    def __enter__(self) -> PromotionLease:
        self.acquire()
        self.start_renewing()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
