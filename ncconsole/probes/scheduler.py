"""Runs probes on an interval with bounded concurrency; results arrive one by one.

Each probe call carries its own timeout, runs in a pool of `concurrency` worker threads and
is delivered as soon as it finishes, so a slow tenant only holds its own worker and never
delays another tenant's result. A target is due `interval` seconds after its last probe
started; one whose previous probe is still running waits for it. Starts are paced at
`max_rate` per second and never exceed free workers, so the console's probing cost stays
bounded however large the fleet: every tenant is then probed every max(interval,
N / max_rate) seconds. When more is due than the pace allows, tenants never probed go
first, then the `prioritize`d ones (in view, unhealthy), then the longest-waiting.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.settings import Settings

T = TypeVar("T")

# A new target is due this far in the past: ahead of every known one, however overdue.
_NEW = -1e12


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
        self.concurrency = max(1, concurrency)
        self._run = run
        self._deliver = deliver
        self._targets: dict[str, T] = {}
        # name -> when it is next due (monotonic); heap entries not matching it are stale.
        self._due: dict[str, float] = {}
        self._queue: list[tuple[float, int, str]] = []
        self._urgent_queue: list[tuple[float, int, str]] = []
        self._urgent: frozenset[str] = frozenset()
        self._order = itertools.count()
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._workers = threading.Semaphore(self.concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"probe-{name}")
        self._thread = threading.Thread(target=self._loop, name=f"probes-{name}", daemon=True)
        self.started = 0  # probes started so far (for the benchmark)

    def set_targets(self, targets: dict[str, T]) -> None:
        """Replace what is probed (tenant name -> target); new targets are probed at once."""
        with self._lock:
            new = [name for name in targets if name not in self._targets]
            self._targets = dict(targets)
            for name in [name for name in self._due if name not in targets]:
                del self._due[name]
            for name in new:
                self._schedule(name, _NEW)
        if new:
            self._wake.set()

    def prioritize(self, names: Iterable[str]) -> None:
        """Tenants to probe before the others whenever more is due than the pace allows."""
        urgent = frozenset(names)
        with self._lock:
            if urgent == self._urgent:
                return
            self._urgent = urgent
            self._urgent_queue = [
                (self._due[name], next(self._order), name) for name in urgent if name in self._due
            ]
            heapq.heapify(self._urgent_queue)
        self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_now(self) -> None:
        """Make every target due now (never-probed and prioritized ones still go first)."""
        now = time.monotonic()
        with self._lock:
            for name, due in list(self._due.items()):
                if due > now:
                    self._schedule(name, now)
        self._wake.set()

    def _schedule(self, name: str, due: float) -> None:
        """Set when `name` is next due (with the lock held)."""
        self._due[name] = due
        entry = (due, next(self._order), name)
        heapq.heappush(self._queue, entry)
        if name in self._urgent:
            heapq.heappush(self._urgent_queue, entry)

    def _loop(self) -> None:
        gap = 1.0 / self.max_rate if self.max_rate > 0 else 0.0
        next_start = time.monotonic()
        while not self._stopping.is_set():
            # Pacing and free workers wait on _stopping, not _wake: a new target must not
            # rush the pace.
            pause = next_start - time.monotonic()
            if pause > 0 and self._stopping.wait(pause):
                return
            while not self._workers.acquire(timeout=0.5):
                if self._stopping.is_set():
                    return
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                picked, wait = self._pick(now)
                if picked is not None:
                    self._in_flight.add(picked)
                    self._schedule(picked, now + self.interval)
                    target = self._targets[picked]
            if picked is None:
                self._workers.release()
                self._wake.wait(wait)
                continue
            next_start = max(next_start + gap, now) if gap else now
            self.started += 1
            try:
                future = self._pool.submit(self._run, target)
            except RuntimeError:  # pool shut down
                return
            future.add_done_callback(lambda f, name=picked: self._done(name, f))

    def _pick(self, now: float) -> tuple[str | None, float]:
        """The next target to start (lock held), or None and how long to wait for one."""
        first = self._top(self._queue, now)
        if first is not None and self._due[first] == _NEW:
            heapq.heappop(self._queue)
            return first, 0.0
        urgent = self._top(self._urgent_queue, now)
        for queue, name in ((self._urgent_queue, urgent), (self._queue, first)):
            if name is not None and self._due[name] <= now:
                heapq.heappop(queue)
                return name, 0.0
        dues = [self._due[name] for name in (first, urgent) if name is not None]
        return None, min(dues) - now if dues else 3600.0

    def _top(self, queue: list[tuple[float, int, str]], now: float) -> str | None:
        """The first valid entry of `queue`, dropping stale ones (lock held)."""
        while queue:
            due, _, name = queue[0]
            if self._due.get(name) != due:
                heapq.heappop(queue)  # rescheduled or removed since
            elif due <= now and name in self._in_flight:
                # Still running: due again an interval from now, not twice at once.
                heapq.heappop(queue)
                self._schedule(name, now + self.interval)
            else:
                return name
        return None

    def _done(self, name: str, future: Future[Any]) -> None:
        self._workers.release()
        with self._lock:
            self._in_flight.discard(name)
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

    def prioritize(self, names: Iterable[str]) -> None:
        """Tenants probed first when more is due than the rate allows (in view, unhealthy)."""
        names = frozenset(names)
        self._web.prioritize(names)
        self._s3.prioritize(names)

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
        self.s3.close()
