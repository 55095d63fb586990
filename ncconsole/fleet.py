"""FleetState: the GitOps repo's tenants joined with what the cluster and the probes observe.

Watchers (kube/) and probes (probes/) report into FleetState from their own threads; a
publisher thread coalesces bursts (~100 ms) into one new immutable FleetSnapshot and hands it
to subscribers on that background thread. Only tenants touched since the last snapshot are
rebuilt, so a burst in one namespace costs one tenant, not the fleet.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ncconsole.errors import NcConsoleError
from ncconsole.fleet_build import DesiredTenant, TenantInputs, build_tenant, platform_state
from ncconsole.gitops.model import TENANTS_DIR
from ncconsole.kube import kinds
from ncconsole.kube.connection import KubeConnection, connect
from ncconsole.kube.secrets import TenantSecretReader
from ncconsole.kube.watch import Heartbeat, Key, KindWatcher, WatchTiming
from ncconsole.probes.scheduler import FleetProbes
from ncconsole.settings import Settings
from ncconsole.snapshot import (
    BucketProbe,
    FleetSnapshot,
    KindState,
    KindStatus,
    StatusPhpProbe,
    TenantState,
)

log = logging.getLogger(__name__)
Callback = Callable[[FleetSnapshot], None]
_EPOCH = datetime.min.replace(tzinfo=UTC)
_ALL = None  # "every tenant is dirty"
# Events kept per tenant namespace (the newest); older ones are dropped on arrival of more.
EVENTS_KEPT = 50


class FleetTimeout(NcConsoleError, TimeoutError):
    """wait_for ran out of time; `snapshot` is the latest one."""

    def __init__(self, message: str, snapshot: FleetSnapshot) -> None:
        super().__init__(message)
        self.snapshot = snapshot


@dataclass(frozen=True)
class DesiredFleet:
    tenants: dict[str, DesiredTenant]
    problems: tuple[str, ...]
    # False when the repo could not be read: then no Application is called an orphan.
    readable: bool


def load_desired(repo: Path) -> DesiredFleet:
    """The tenants declared in the platform repo (via ncconsole.gitops)."""
    from ncconsole.gitops.loader import load_repo

    try:
        loaded = load_repo(repo)
    except NcConsoleError as err:
        return DesiredFleet({}, (str(err),), readable=False)
    problems = tuple(
        f"{entry.rel}: not a usable tenant file (run `ncconsole validate`)"
        for entry in loaded.tenant_files
        if entry.tenant is None
    )
    tenants = {
        t.name: DesiredTenant(t.name, t.wave, t.environment, t.hostname, t.bucket)
        for t in loaded.tenants
    }
    return DesiredFleet(tenants, problems, readable=True)


def repo_signature(repo: Path) -> tuple[Any, ...]:
    """Names and modification times of the tenant files: changes when the desired state may."""
    tenants = Path(repo).expanduser() / TENANTS_DIR
    try:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in tenants.rglob("*.yaml")))
    except OSError:
        return ()


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
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.timing = timing
        self.coalesce = coalesce
        self.repo_poll = repo_poll
        self._repo_signature: tuple[Any, ...] = ()
        self._with_probes = probes
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._published = threading.Condition()
        self._subscribers: dict[int, Callback] = {}
        self._ids = itertools.count()
        self._version = 0
        self._objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in kinds.FLEET_KINDS}
        self._kinds = {k: KindState(KindStatus.LOADING) for k in kinds.FLEET_KINDS}
        self._web: dict[str, StatusPhpProbe] = {}
        self._s3: dict[str, BucketProbe] = {}
        self._dirty: set[str] | None = _ALL
        self._cache: dict[str, TenantState] = {}
        self._api_reachable = True
        self._api_error = ""
        self._last_contact: datetime | None = None
        self._desired = DesiredFleet({}, (), readable=False)
        self._repo_loaded = False
        self._watchers: list[KindWatcher] = []
        self._heartbeat: Heartbeat | None = None
        self._probes: FleetProbes | None = None
        self._publisher = threading.Thread(target=self._publish_loop, name="fleet", daemon=True)
        self._repo_watcher = threading.Thread(target=self._poll_repo, name="repo", daemon=True)
        self._snapshot = FleetSnapshot(0, datetime.now(UTC), "", "", str(settings.repo), ())

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (KubeConfigError on a bad kubeconfig), start watching, load the repo.

        The repo is read while the first lists are in flight; snapshots count as
        `complete` only once both are in.
        """
        if self.connection is None:
            self.connection = connect(self.settings)
        for spec in kinds.fleet_watch_specs(self.settings):
            watcher = KindWatcher(self.connection, spec, self, self.timing)
            self._watchers.append(watcher)
        for watcher in self._watchers:
            watcher.start()
        self._publisher.start()
        interval = (self.timing or WatchTiming()).heartbeat_seconds
        self._heartbeat = Heartbeat(self.connection, self, self._watchers, interval)
        self._heartbeat.start()
        self.reload_repo()
        self._repo_watcher.start()
        if self._with_probes:
            secrets = TenantSecretReader(self.connection, self.settings)
            self._probes = FleetProbes(self.settings, self._probe_result, secrets)
            self._probes.set_tenants(self._probe_targets())
            self._probes.start()

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        for watcher in self._watchers:
            watcher.stop()
        if self._probes is not None:
            self._probes.stop()
        if self._publisher.is_alive():
            self._publisher.join(2.0)

    def _poll_repo(self) -> None:
        """Reload the repo when a tenant file is added, removed or edited (stat only)."""
        while not self._stopping.wait(self.repo_poll):
            if repo_signature(self.settings.repo) != self._repo_signature:
                self.reload_repo()

    def reload_repo(self) -> None:
        """Read the platform repo again (tenants, waves) and republish."""
        self._repo_signature = repo_signature(self.settings.repo)
        desired = load_desired(self.settings.repo)
        with self._lock:
            self._desired = desired
            self._repo_loaded = True
            self._dirty = _ALL
        if self._probes is not None:
            self._probes.set_tenants(self._probe_targets())
        self._changed.set()

    def probe_now(self) -> None:
        """Run status.php and bucket probes for every tenant now (e.g. on a refresh key)."""
        if self._probes is not None:
            self._probes.run_now()

    def _probe_targets(self) -> list[tuple[str, str, str, str]]:
        return [
            (t.name, t.hostname, t.bucket, self.settings.namespace_for(t.name))
            for t in self._desired.tenants.values()
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

    # -- WatchSink (called from watcher threads) --------------------------------------------

    def _tenant_of(self, kind: str, namespace: str, view: Any) -> str | None:
        if kind == kinds.APPLICATIONS:
            return self._app_tenant(view)
        prefix = self.settings.namespace_prefix
        if kind in (kinds.PODS, kinds.DEPLOYMENTS, kinds.EVENTS) and namespace.startswith(prefix):
            return namespace[len(prefix) :]
        return None

    def _app_tenant(self, app: Any) -> str:
        label = app.labels.get(self.settings.labels.tenant)
        if label:
            return label
        prefix = self.settings.app_prefix
        return app.name[len(prefix) :] if app.name.startswith(prefix) else app.name

    def _mark(self, tenant: str | None) -> None:
        if tenant is not None and self._dirty is not _ALL:
            self._dirty.add(tenant)

    def replace(self, kind: str, items: dict[Key, Any]) -> None:
        grouped: dict[str, dict[str, Any]] = {}
        for (namespace, name), view in items.items():
            grouped.setdefault(namespace, {})[name] = view
        with self._lock:
            self._objects[kind] = grouped
            self._dirty = _ALL
        self._changed.set()

    def upsert(self, kind: str, key: Key, view: Any) -> None:
        namespace, name = key
        with self._lock:
            group = self._objects[kind].setdefault(namespace, {})
            old = group.get(name)
            group[name] = view
            if kind == kinds.EVENTS and len(group) > EVENTS_KEPT:
                oldest = min(group, key=lambda n: group[n].last_seen or _EPOCH)
                del group[oldest]
            self._mark(self._tenant_of(kind, namespace, view))
            if old is not None and kind == kinds.APPLICATIONS:
                self._mark(self._app_tenant(old))
        self._changed.set()

    def delete(self, kind: str, key: Key) -> None:
        namespace, name = key
        with self._lock:
            group = self._objects[kind].get(namespace, {})
            old = group.pop(name, None)
            if old is None:
                return
            if not group:
                self._objects[kind].pop(namespace, None)
            self._mark(self._tenant_of(kind, namespace, old))
        self._changed.set()

    def kind_status(self, kind: str, status: KindStatus, message: str = "") -> None:
        with self._lock:
            current = self._kinds[kind]
            if current.status == status and current.message == message:
                return
            self._kinds[kind] = KindState(status, message, datetime.now(UTC))
            self._dirty = _ALL
        self._changed.set()

    def contact(self, ok: bool, error: str = "") -> None:
        with self._lock:
            if ok:
                self._last_contact = datetime.now(UTC)
            changed = self._api_reachable != ok or (not ok and self._api_error != error)
            self._api_reachable = ok
            self._api_error = "" if ok else error
        if changed:
            self._changed.set()

    def _probe_result(self, kind: str, tenant: str, result: Any) -> None:
        with self._lock:
            (self._web if kind == "web" else self._s3)[tenant] = result
            self._mark(tenant)
        self._changed.set()

    # -- publishing ------------------------------------------------------------------------

    def _publish_loop(self) -> None:
        last = 0.0
        while not self._stopping.is_set():
            self._changed.wait()
            if self._stopping.is_set():
                return
            # At most one snapshot per `coalesce` seconds: a lone change is published at
            # once, the rest of a burst waits for the next slot and goes out as one.
            pause = last + self.coalesce - time.monotonic()
            if pause > 0:
                self._stopping.wait(pause)
            self._changed.clear()
            last = time.monotonic()
            snapshot = self._build()
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

    def _build(self) -> FleetSnapshot:
        with self._lock:
            # Until the repo is read, tenants cannot be joined; skip the work (it would
            # only slow the repo load down) and show no tenants yet.
            dirty, self._dirty = (self._dirty, set()) if self._repo_loaded else (set(), _ALL)
            desired = self._desired
            apps = {
                self._app_tenant(app): app
                for group in self._objects[kinds.APPLICATIONS].values()
                for app in group.values()
            }
            names = set(desired.tenants) | set(apps)
            if dirty is _ALL:
                self._cache = {n: t for n, t in self._cache.items() if n in names}
                dirty = names
            kind_states = dict(self._kinds)
            for name in dirty & names:
                namespace = self.settings.namespace_for(name)
                inputs = TenantInputs(
                    desired=desired.tenants.get(name),
                    app=apps.get(name),
                    pods=tuple(self._objects[kinds.PODS].get(namespace, {}).values()),
                    deployments=tuple(self._objects[kinds.DEPLOYMENTS].get(namespace, {}).values()),
                    events=tuple(self._objects[kinds.EVENTS].get(namespace, {}).values()),
                    web=self._web.get(name),
                    s3=self._s3.get(name),
                )
                self._cache[name] = build_tenant(
                    name, inputs, self.settings, kind_states, desired.readable
                )
            for name in dirty - names:
                self._cache.pop(name, None)
            tenants = (
                ()
                if not self._repo_loaded
                else tuple(
                    sorted(
                        self._cache.values(),
                        key=lambda t: (t.wave is None, t.wave or 0, t.name),
                    )
                )
            )
            platform = platform_state(
                self._objects[kinds.PLATFORM], self._objects[kinds.SECRET_STORE], kind_states
            )
            appsets = tuple(
                view
                for group in self._objects[kinds.APPLICATIONSETS].values()
                for view in group.values()
            )
            reachable, error, contact = self._api_reachable, self._api_error, self._last_contact
            repo_loaded = self._repo_loaded
        self._version += 1
        now = datetime.now(UTC)
        conn = self.connection
        return FleetSnapshot(
            version=self._version,
            taken_at=now,
            context=conn.context if conn else "",
            cluster=conn.cluster if conn else "",
            repo=str(self.settings.repo),
            tenants=tenants,
            kinds=kind_states,
            platform=platform,
            api_reachable=reachable,
            api_error=error,
            # Live watches carry no traffic when nothing changes: while the API is reachable
            # the data is current, so its age is measured from now.
            last_contact=now if reachable and contact else contact,
            repo_problems=desired.problems,
            appsets=appsets,
            complete=repo_loaded
            and all(k.status != KindStatus.LOADING for k in kind_states.values()),
        )
