"""FleetState: the GitOps repo's tenants joined with what the cluster and the probes observe
and the last smoke checks recorded for this cluster.

Watchers (kube/) and probes (probes/) report into its ObservedFleet (inputs.py) from their
own threads, the repo and the smoke record are re-read when their files change, the shared
platform is read every `platform.interval` seconds when a reader is given
(platform_poller.py); a publisher
thread coalesces bursts (~100 ms) into one new immutable FleetSnapshot and hands it to
subscribers on that background thread. Only tenants touched
since the last snapshot are joined again, so a burst in one namespace costs one tenant.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.fleet import gc_pause
from ncconsole.fleet import watches as kinds
from ncconsole.fleet.desired import DesiredFleet, DesiredReader, load_desired, repo_signature
from ncconsole.fleet.inputs import ObservedFleet
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.fleet.platform_poller import PlatformPoller
from ncconsole.fleet.smoke_record import SmokeOutcome, SmokeRecord, SmokeResults, for_cluster
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.kube.watch import Heartbeat, KindWatcher, WatchTiming
from ncconsole.kube.writes import eso_api
from ncconsole.locations import desired_cache_path
from ncconsole.platform.reading import PlatformReading
from ncconsole.probes.scheduler import FleetProbes
from ncconsole.settings import Settings

# Re-exported: callers see the fleet through this module.
__all__ = ["DesiredFleet", "FleetState", "FleetTimeout", "load_desired", "repo_signature"]

log = logging.getLogger(__name__)
# The GC stays paused at most this long when the first complete snapshot does not come.
GC_PAUSE_LIMIT = 30.0
Callback = Callable[[FleetSnapshot], None]
# Reads the shared platform through the fleet's connection (ops/platform.read_platform).
PlatformReaderFactory = Callable[[KubeConnection], PlatformReading]


class FleetTimeout(NcConsoleError, TimeoutError):
    """wait_for ran out of time; `snapshot` is the latest one."""

    def __init__(self, message: str, snapshot: FleetSnapshot) -> None:
        super().__init__(message)
        self.snapshot = snapshot


class FleetState:
    """Thread-safe live fleet. `start()`, read `snapshot`, `subscribe(cb)`, `stop()`."""

    def __init__(
        self,
        settings: Settings,
        *,
        connection: KubeConnection | None = None,
        timing: WatchTiming | None = None,
        probes: bool = True,
        coalesce: float = 0.1,
        repo_poll: float = 3.0,
        smoke_record: SmokeRecord | None = None,
        platform_reader: PlatformReaderFactory | None = None,
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.timing = timing
        self.coalesce = coalesce
        self.lazy_period = 2.0
        self.loading_period = 1.0
        self.repo_poll = repo_poll
        self._repo_signature: tuple[Any, ...] = ()  # while polling (no file events)
        # Stat'ed with the repo; read again only when its signature changes.
        self.smoke = SmokeResults(smoke_record or SmokeRecord(), recheck=0.0)
        self._smoke_seen: dict[str, SmokeOutcome] | None = None
        self._smoke_lock = threading.Lock()
        self._with_probes = probes
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._published = threading.Condition()
        self._subscribers: dict[int, Callback] = {}
        self._ids = itertools.count()
        self._version = 0
        self.observed = ObservedFleet(settings, self._changed.set)
        self._watchers: list[KindWatcher] = []
        self._heartbeat: Heartbeat | None = None
        self._probes: FleetProbes | None = None
        self._platform_reader = platform_reader
        self._platform: PlatformPoller | None = None
        self._focus: frozenset[str] = frozenset()
        self._prioritized: frozenset[str] | None = None
        self._publisher = threading.Thread(target=self._publish_loop, name="fleet", daemon=True)
        self._desired = DesiredReader(settings.repo, desired_cache_path(settings.repo))
        self._repo_watcher = threading.Thread(target=self._watch_repo, name="repo", daemon=True)
        self._gc_paused_at: float | None = None
        self._first_complete = threading.Event()
        self._snapshot = FleetSnapshot(0, datetime.now(UTC), "", "", str(settings.repo), ())

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (KubeConfigError on a bad kubeconfig), start watching, load the repo.

        The repo is read while the first lists are in flight; snapshots count as
        `complete` only once both are in.
        """
        if self.connection is None:
            self.connection = connect(self.settings)
        gc_pause.pause()
        self._gc_paused_at = time.monotonic()
        for spec in kinds.fleet_watch_specs(self.settings, eso_api(self.connection)):
            watcher = KindWatcher(
                self.connection, spec, self.observed, self.timing,
                namespaces=self.observed.tenant_namespaces,
            )  # fmt: skip
            self._watchers.append(watcher)
        for watcher in self._watchers:
            watcher.start()
        self._publisher.start()
        timing = self.timing or WatchTiming()
        self._heartbeat = Heartbeat(self.connection, self.observed, self._watchers, timing)
        self._heartbeat.start()
        self.reload_repo()
        self.reload_smoke()
        self._repo_watcher.start()
        if self._with_probes:
            secrets = TenantSecretReader(self.connection, self.settings)
            self._probes = FleetProbes(self.settings, self.observed.probe_result, secrets)
            self._probes.set_tenants(self._probe_targets())
            self._probes.start()
        if self._platform_reader is not None:
            reader, conn = self._platform_reader, self.connection
            self._platform = PlatformPoller(
                lambda: reader(conn), self.observed.set_platform, self.settings.platform.interval
            )
            self._platform.start()

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        self._resume_gc()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        for watcher in self._watchers:
            watcher.stop()
        if self._probes is not None:
            self._probes.stop()
        if self._platform is not None:
            self._platform.stop()
        if self._publisher.is_alive():
            self._publisher.join(2.0)

    def _resume_gc(self) -> None:
        if self._gc_paused_at is not None:
            self._gc_paused_at = None
            gc_pause.resume()

    def _resume_gc_if_overdue(self) -> None:
        paused_at = self._gc_paused_at
        if paused_at is not None and time.monotonic() - paused_at > GC_PAUSE_LIMIT:
            self._resume_gc()

    def _watch_repo(self) -> None:
        """Reload the repo when a tenant file is added, removed or edited, told by file events
        (watchfiles: inotify on Linux), so a quiet repo costs nothing however large: a stat of
        every tenant file every 3 s was half the idle CPU at 5,000 tenants. Where events are
        not to be had (no tenant directory yet, no inotify), the files are polled. The smoke
        record is checked for changes at the `repo_poll` pace either way."""
        # Not while the fleet is first read (it shares the CPU); a change made meanwhile is
        # caught by reading the repo again once the watch is set up.
        self._first_complete.wait(GC_PAUSE_LIMIT)
        while not self._stopping.is_set():
            try:
                self._follow_repo_events()
            except Exception:  # no directory, no inotify (or too many watches): poll
                if self._stopping.wait(self.repo_poll):
                    return
                signature = repo_signature(self.settings.repo)
                if signature != self._repo_signature:
                    self._repo_signature = signature
                    self.reload_repo()
                self.reload_smoke()

    def _follow_repo_events(self) -> None:
        from watchfiles import watch  # only this thread needs it: off the cold start

        tenants = self._desired.tenants_dir
        inode = tenants.stat().st_ino
        period = max(0.05, self.repo_poll)
        events = watch(
            tenants,
            stop_event=self._stopping,
            debounce=int(min(1.6, period) * 1000),
            step=50,
            rust_timeout=int(period * 1000),
            yield_on_timeout=True,
            recursive=False,
            raise_interrupt=False,
        )
        for index, changes in enumerate(events):
            # The first time, whatever changed since the repo was read, before the watch.
            if changes or index == 0:
                self.reload_repo()
            self.reload_smoke()
            if tenants.stat().st_ino != inode:
                return  # the directory was replaced (a checkout): watch the new one

    def reload_smoke(self) -> None:
        """Join the smoke record's outcomes for this cluster, if the file changed."""
        with self._smoke_lock:
            outcomes = self.smoke.current()
            if outcomes is self._smoke_seen:
                return
            self._smoke_seen = outcomes
            cluster = self.connection.cluster if self.connection is not None else ""
            self.observed.set_smoke(for_cluster(outcomes, cluster), self.smoke.problem)

    def note_smoke(self, outcomes: Mapping[str, SmokeOutcome]) -> None:
        """Outcomes this process just recorded (or is about to): in the next snapshot, not
        after the next look at the file."""
        with self._smoke_lock:
            self.smoke.put(outcomes)
        self.reload_smoke()

    def reload_repo(self) -> None:
        """Read the platform repo again (tenants, waves) and republish."""
        desired = self._desired.read()
        if desired != self.observed.desired or not self.observed.repo_loaded:
            self.observed.set_desired(desired)
        if self._probes is not None:
            self._probes.set_tenants(self._probe_targets())

    def read_platform_now(self) -> None:
        """Read the shared platform again now (e.g. after a silence was created or expired)."""
        if self._platform is not None:
            self._platform.read_now()

    @property
    def reads_platform(self) -> bool:
        return self._platform_reader is not None

    def focus(self, names: Iterable[str]) -> None:
        """The tenants the user is looking at (rows in view): their probes go first, with the
        unhealthy tenants', so what is on screen is the freshest."""
        self._focus = frozenset(names)
        self._prioritize()

    def _prioritize(self) -> None:
        wanted = self._focus | self.observed.unhealthy
        if self._probes is not None and wanted != self._prioritized:
            self._prioritized = wanted
            self._probes.prioritize(wanted)

    def _probe_targets(self) -> list[tuple[str, str, str, str]]:
        return [
            (t.name, t.hostname, t.bucket, self.settings.namespace_for(t.name))
            for t in self.observed.desired.tenants.values()
        ]

    # -- reading ---------------------------------------------------------------------------

    @property
    def snapshot(self) -> FleetSnapshot:
        return self._snapshot

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback(snapshot)` on a background thread for every new snapshot."""
        ident = next(self._ids)
        with self._lock:
            self._subscribers[ident] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(ident, None)

        return unsubscribe

    def wait_for(self, predicate: Callable[[FleetSnapshot], bool], timeout: float) -> FleetSnapshot:
        """The first snapshot (current or future) satisfying `predicate`; FleetTimeout else."""
        deadline = datetime.now(UTC).timestamp() + timeout
        with self._published:
            while not predicate(self._snapshot):
                remaining = deadline - datetime.now(UTC).timestamp()
                if remaining <= 0:
                    raise FleetTimeout(f"fleet state not ready after {timeout:g} s", self._snapshot)
                # Wake now and then too: a predicate may depend on the clock.
                self._published.wait(min(remaining, 0.25))
            return self._snapshot

    # -- publishing ------------------------------------------------------------------------

    def _publish_loop(self) -> None:
        last = time.monotonic()
        while not self._stopping.is_set():
            # Repeated probe answers only refresh the data's age: they are folded in every
            # `lazy_period` seconds instead of each causing a snapshot.
            if not self._changed.wait(self.lazy_period) and not self.observed.has_pending():
                self._resume_gc_if_overdue()
                continue
            if self._stopping.is_set():
                return
            # While the first lists come in, each would join every tenant again: publish
            # when the last is in, or every `loading_period` s to show progress.
            while self.observed.loading() and not self._stopping.is_set():
                remaining = last + self.loading_period - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.clear()
                self._changed.wait(remaining)
            # At most one snapshot per `coalesce` seconds: a lone change is published at
            # once, the rest of a burst waits for the next slot and goes out as one.
            pause = last + self.coalesce - time.monotonic()
            if pause > 0:
                self._stopping.wait(pause)
            self._changed.clear()
            last = time.monotonic()
            self._version += 1
            snapshot = self.observed.build(self._version, self.connection)
            self._prioritize()
            if snapshot.complete:
                self._resume_gc()
                self._first_complete.set()
            self._resume_gc_if_overdue()
            with self._published:
                self._snapshot = snapshot
                self._published.notify_all()
            with self._lock:
                callbacks = list(self._subscribers.values())
            for callback in callbacks:
                try:
                    callback(snapshot)
                except Exception:  # a broken subscriber must not stop the fleet
                    log.exception("fleet subscriber failed")
