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
from typing import Any, Generic, TypeVar

from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.probes.s3 import BucketProber
from ncconsole.probes.statusphp import StatusPhpProber
from ncconsole.settings import Settings

T = TypeVar("T")

# A new target is due this far in the past: ahead of every known one, however overdue.
_NEW = -1e12


class ProbeScheduler(Generic[T]):
    """Calls `run(target)` for every target each `interval` seconds; `deliver(name, result)`.

    `concurrency` worker threads each take the next due target and a start slot (the pace)
    under one lock, wait for the slot and run the probe: no dispatcher thread, queue or
    future between deciding and probing, which at a few hundred probes a second matters.
    """

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
        self._gap = 1.0 / max_rate if max_rate > 0 else 0.0
        self._next_start = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._workers = [
            threading.Thread(target=self._work, name=f"probe-{name}-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
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
                self._changed.notify_all()

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
            self._changed.notify_all()

    def start(self) -> None:
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._changed.notify_all()

    def run_now(self) -> None:
        """Make every target due now (never-probed and prioritized ones still go first)."""
        now = time.monotonic()
        with self._lock:
            for name, due in list(self._due.items()):
                if due > now:
                    self._schedule(name, now)
            self._changed.notify_all()

    def _schedule(self, name: str, due: float) -> None:
        """Set when `name` is next due (with the lock held)."""
        self._due[name] = due
        entry = (due, next(self._order), name)
        heapq.heappush(self._queue, entry)
        if name in self._urgent:
            heapq.heappush(self._urgent_queue, entry)

    def _work(self) -> None:
        while True:
            with self._lock:
                while True:
                    if self._stopping.is_set():
                        return
                    now = time.monotonic()
                    name, wait = self._pick(now)
                    if name is not None:
                        break
                    self._changed.wait(wait)
                # The pace: starts at least `_gap` apart, whichever worker makes them.
                slot = max(self._next_start, now)
                self._next_start = slot + self._gap
                self._in_flight.add(name)
                self._schedule(name, slot + self.interval)
                target = self._targets[name]
                self.started += 1
            # Waits on _stopping, not on news: a new target must not rush the pace.
            if slot > now and self._stopping.wait(slot - now):
                return
            try:
                result, failed = self._run(target), False
            except Exception:  # a probe reports its failures as results; this is a bug
                result, failed = None, True
            with self._lock:
                self._in_flight.discard(name)
                wanted = name in self._targets
            if wanted and not failed and not self._stopping.is_set():
                self._deliver(name, result)

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
