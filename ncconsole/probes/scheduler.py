"""Runs probes on an interval with bounded concurrency; results arrive one by one.

Each probe call carries its own timeout (httpx / botocore), runs in a worker pool of
`concurrency` threads and is delivered as soon as it finishes, so a slow tenant only holds
its own worker and never delays another tenant's result. A target whose previous probe is
still running is skipped for that round instead of piling up. Starts are paced at `max_rate`
per second, so the console's probing cost stays bounded however large the fleet: a round
then lasts at least N / max_rate seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.settings import Settings

T = TypeVar("T")


class ProbeScheduler(Generic[T]):
    """Calls `run(target)` for every target each `interval` seconds; `deliver(name, result)`."""

    def __init__(
        self,
        name: str,
        interval: float,
        concurrency: int,
        run: Callable[[T], Any],
        deliver: Callable[[str, Any], None],
        max_rate: float = 0.0,
    ) -> None:
        self.name = name
        self.interval = interval
        self.max_rate = max_rate
        self._run = run
        self._deliver = deliver
        self._targets: dict[str, T] = {}
        self._in_flight: set[str] = set()
        self._probed: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix=f"probe-{name}")
        self._thread = threading.Thread(target=self._loop, name=f"probes-{name}", daemon=True)

    def set_targets(self, targets: dict[str, T]) -> None:
        """Replace what is probed (tenant name -> target); new targets are probed at once."""
        with self._lock:
            new = targets.keys() - self._targets.keys()
            self._targets = dict(targets)
        if new:
            self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_now(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            started = time.monotonic()
            self._round()
            self._wake.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def _round(self) -> None:
        with self._lock:
            due = [(n, t) for n, t in self._targets.items() if n not in self._in_flight]
            # Tenants never probed go first: a paced round over a large fleet is long.
            due.sort(key=lambda item: item[0] in self._probed)
        gap = 1.0 / self.max_rate if self.max_rate > 0 else 0.0
        next_start = time.monotonic()
        for name, target in due:
            if gap:
                # Pacing waits on _stopping, not _wake: new targets must not rush a round.
                if self._stopping.wait(max(0.0, next_start - time.monotonic())):
                    return
                next_start = max(next_start + gap, time.monotonic())
            with self._lock:
                if name not in self._targets or name in self._in_flight:
                    continue
                self._in_flight.add(name)
            try:
                future = self._pool.submit(self._run, target)
            except RuntimeError:  # pool shut down
                return
            future.add_done_callback(lambda f, name=name: self._done(name, f))

    def _done(self, name: str, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight.discard(name)
            self._probed.add(name)
            wanted = name in self._targets
        if future.cancelled() or not wanted:
            return
        error = future.exception()
        if error is None:
            self._deliver(name, future.result())


class FleetProbes:
    """status.php and S3 probes for the fleet; `deliver(kind, tenant, result)` per result.

    kind is "web" (StatusPhpProbe) or "s3" (BucketProbe).
    """

    def __init__(
        self,
        settings: Settings,
        deliver: Callable[[str, str, Any], None],
        secrets: TenantSecretReader | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.web = StatusPhpProber(settings.web)
        self.s3 = BucketProber(settings.s3)
        self._web = ProbeScheduler[str](
            "web",
            settings.web.interval,
            settings.web.concurrency,
            self.web.probe,
            lambda name, result: deliver("web", name, result),
            settings.web.max_rate,
        )
        self._s3 = ProbeScheduler[tuple[str, str]](
            "s3",
            settings.s3.interval,
            settings.s3.concurrency,
            self._probe_bucket,
            lambda name, result: deliver("s3", name, result),
            settings.s3.max_rate,
        )

    def _probe_bucket(self, target: tuple[str, str]) -> Any:
        bucket, namespace = target
        creds = self.secrets.credentials(namespace) if self.secrets else None
        if creds is not None:
            return self.s3.probe(bucket, creds.access_key, creds.secret_key)
        return self.s3.probe(bucket, self.settings.s3.access_key, self.settings.s3.secret_key)

    def set_tenants(self, tenants: list[tuple[str, str, str, str]]) -> None:
        """(name, hostname, bucket, namespace) for every tenant to probe."""
        self._web.set_targets({name: host for name, host, _, _ in tenants if host})
        self._s3.set_targets({name: (bucket, ns) for name, _, bucket, ns in tenants if bucket})

    def start(self) -> None:
        self._web.start()
        self._s3.start()

    def run_now(self) -> None:
        """Probe every tenant again now instead of at the next interval."""
        if self.secrets is not None:
            self.secrets.invalidate()
        self._web.run_now()
        self._s3.run_now()

    def stop(self) -> None:
        self._web.stop()
        self._s3.stop()
        self.web.close()
