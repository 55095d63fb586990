"""What the cluster, the probes and the smoke record report, per kind and per tenant, and the
join into snapshots.

ObservedFleet is the WatchSink of every watcher and the heartbeat, and receives probe results,
the smoke outcomes recorded for this cluster and the shared platform's readings;
each call runs on the reporter's thread, updates the state under one lock, marks the tenants it
touched and calls `on_change`. `build()` joins only those tenants again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ncconsole.fleet import watches as kinds
from ncconsole.fleet.desired import DesiredFleet
from ncconsole.fleet.join import EPOCH, TenantInputs, build_tenant, platform_state
from ncconsole.fleet.model import FleetSnapshot, Health, KindState, TenantState
from ncconsole.fleet.smoke_record import SmokeOutcome
from ncconsole.kube.connection import KubeConnection
from ncconsole.kube.watch import Key, KindStatus
from ncconsole.platform.reading import NOT_READ, PlatformReading, TenantPlatform
from ncconsole.probes.results import BucketProbe, StatusPhpProbe, same_answer
from ncconsole.settings import Settings

_ALL = None  # "every tenant is dirty"
# Events kept per tenant namespace (the newest); older ones are dropped on arrival of more.
EVENTS_KEPT = 50


class ObservedFleet:
    """Thread-safe store of observed state; see the module docstring."""

    def __init__(self, settings: Settings, on_change: Callable[[], None]) -> None:
        self.settings = settings
        self._on_change = on_change
        self._lock = threading.Lock()
        self._objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in kinds.FLEET_KINDS}
        self._kinds = {k: KindState(KindStatus.LOADING) for k in kinds.FLEET_KINDS}
        self._web: dict[str, StatusPhpProbe] = {}
        self._s3: dict[str, BucketProbe] = {}
        self._smoke: dict[str, SmokeOutcome] = {}
        self._smoke_problem = ""
        # kind -> namespace -> why it may not be read there (the per-namespace fallback).
        self._denied: dict[str, dict[str, str]] = {}
        self._platform: PlatformReading | None = None
        self._platform_tenants: dict[str, TenantPlatform] = {}
        self._platform_nobody = NOT_READ
        self._dirty: set[str] | None = _ALL
        self._cache: dict[str, TenantState] = {}
        # Tenants not healthy as of the last build: their probes go first.
        self.unhealthy: frozenset[str] = frozenset()
        self._api_reachable = True
        self._api_error = ""
        self._last_contact: datetime | None = None
        self._desired = DesiredFleet({}, (), readable=False)
        self._repo_loaded = False

    @property
    def desired(self) -> DesiredFleet:
        return self._desired

    @property
    def repo_loaded(self) -> bool:
        return self._repo_loaded

    def set_desired(self, desired: DesiredFleet) -> None:
        with self._lock:
            self._desired = desired
            self._repo_loaded = True
            self._dirty = _ALL
        self._on_change()

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

    def replace(self, kind: str, items: dict[Key, Any], namespace: str | None = None) -> None:
        grouped: dict[str, dict[str, Any]] = {}
        for (item_namespace, name), view in items.items():
            grouped.setdefault(item_namespace, {})[name] = view
        with self._lock:
            if namespace is None:
                self._objects[kind] = grouped
                self._dirty = _ALL
            else:  # one namespace's list, from the per-namespace fallback
                group = grouped.get(namespace)
                if group:
                    self._objects[kind][namespace] = group
                else:
                    self._objects[kind].pop(namespace, None)
                self._mark(self._tenant_of(kind, namespace, None))
        self._on_change()

    def namespace_status(
        self, kind: str, namespace: str, status: KindStatus, message: str = ""
    ) -> None:
        """A per-namespace watch's state: FORBIDDEN (or another failure) makes the tenant
        of that namespace unknown for this kind; LIVE clears it."""
        with self._lock:
            denied = self._denied.setdefault(kind, {})
            if status == KindStatus.LIVE:
                if denied.pop(namespace, None) is None:
                    return
            elif denied.get(namespace) == message:
                return
            else:
                denied[namespace] = message or status.value
            self._mark(self._tenant_of(kind, namespace, None))
        self._on_change()

    def tenant_namespaces(self) -> list[str] | None:
        """Every tenant's namespace (the repo's and the Applications'); None until the repo
        is read. The per-namespace fallback reads its kinds in these."""
        with self._lock:
            if not self._repo_loaded:
                return None
            names = set(self._desired.tenants) | {
                self._app_tenant(app)
                for group in self._objects[kinds.APPLICATIONS].values()
                for app in group.values()
            }
        return sorted(self.settings.namespace_for(name) for name in names)

    def upsert(self, kind: str, key: Key, view: Any) -> None:
        namespace, name = key
        with self._lock:
            group = self._objects[kind].setdefault(namespace, {})
            old = group.get(name)
            group[name] = view
            if kind == kinds.EVENTS and len(group) > EVENTS_KEPT:
                oldest = min(group, key=lambda n: group[n].last_seen or EPOCH)
                del group[oldest]
            self._mark(self._tenant_of(kind, namespace, view))
            if old is not None and kind == kinds.APPLICATIONS:
                self._mark(self._app_tenant(old))
        self._on_change()

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
        self._on_change()

    def kind_status(self, kind: str, status: KindStatus, message: str = "") -> None:
        with self._lock:
            current = self._kinds[kind]
            if current.status == status and current.message == message:
                return
            self._kinds[kind] = KindState(status, message, datetime.now(UTC))
            self._dirty = _ALL
        self._on_change()

    def contact(self, ok: bool, error: str = "") -> None:
        with self._lock:
            if ok:
                self._last_contact = datetime.now(UTC)
            changed = self._api_reachable != ok or (not ok and self._api_error != error)
            self._api_reachable = ok
            self._api_error = "" if ok else error
        if changed:
            self._on_change()

    def probe_result(self, kind: str, tenant: str, result: Any) -> None:
        """A status.php ("web") or bucket ("s3") result for one tenant.

        A result that only repeats the previous one (same answer, new time), or a first
        answer that is good, is folded into the next snapshot instead of causing one: with
        thousands of tenants probes then cost a snapshot every few seconds, not ten a second,
        while a tenant whose answer changed for the worse or better is published at once.
        """
        with self._lock:
            results = self._web if kind == "web" else self._s3
            previous = results.get(tenant)
            # A first answer that says "fine" is news nobody waits for either.
            urgent = not same_answer(previous, result) and not (
                previous is None and _is_good(result)
            )
            results[tenant] = result
            self._mark(tenant)
        if urgent:
            self._on_change()

    def set_smoke(self, outcomes: Mapping[str, SmokeOutcome], problem: str = "") -> None:
        """The last smoke outcome per tenant (already this cluster's only), and why the
        record could not be read ("" when it could); only changed tenants are joined again."""
        with self._lock:
            changed = {
                name
                for name in set(outcomes) | set(self._smoke)
                if outcomes.get(name) != self._smoke.get(name)
            }
            if not changed and problem == self._smoke_problem:
                return
            self._smoke = dict(outcomes)
            self._smoke_problem = problem
            for name in changed:
                self._mark(name)
        self._on_change()

    def _denied_kinds(
        self, namespace: str, kind_states: Mapping[str, KindState]
    ) -> tuple[str, ...]:
        """The tenant kinds that may not be read in `namespace`: forbidden cluster-wide with
        no per-namespace fallback, or refused in that namespace."""
        return tuple(
            kind
            for kind in (kinds.PODS, kinds.DEPLOYMENTS, kinds.EVENTS)
            if kind_states[kind].status in (KindStatus.FORBIDDEN, KindStatus.UNAUTHORIZED)
            or namespace in self._denied.get(kind, {})
        )

    def set_platform(self, reading: PlatformReading) -> None:
        """A new reading of the shared platform: the tenants whose part of it changed (alerts,
        silences, pools, certificates' words) are joined again, the rest keep their state."""
        tenants, nobody = reading.by_tenant, reading.nothing_about
        with self._lock:
            old, old_nobody = self._platform_tenants, self._platform_nobody
            self._platform = reading
            self._platform_tenants, self._platform_nobody = tenants, nobody
            if nobody != old_nobody:  # Alertmanager became (un)readable: every tenant's cell
                self._dirty = _ALL
            else:
                for name in set(tenants) | set(old):
                    before, after = old.get(name, old_nobody), tenants.get(name, nobody)
                    if before.signature() != after.signature():
                        self._mark(name)
        self._on_change()

    def loading(self) -> bool:
        """Whether the repo or a kind's first list is still to come."""
        with self._lock:
            return not self._repo_loaded or any(
                state.status is KindStatus.LOADING for state in self._kinds.values()
            )

    def has_pending(self) -> bool:
        """Whether something not yet in a snapshot was recorded (e.g. repeated probe times)."""
        with self._lock:
            return self._repo_loaded and (self._dirty is _ALL or bool(self._dirty))

    def build(self, version: int, connection: KubeConnection | None) -> FleetSnapshot:
        """A new snapshot; only tenants touched since the last build are joined again."""
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
                    smoke=self._smoke.get(name),
                    denied=self._denied_kinds(namespace, kind_states),
                    platform=self._platform_tenants.get(name, self._platform_nobody),
                )
                self._cache[name] = build_tenant(
                    name, inputs, self.settings, kind_states, desired.readable
                )
            for name in dirty - names:
                self._cache.pop(name, None)
            self._note_unhealthy(dirty)
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
            smoke_problem = self._smoke_problem
            repo_loaded = self._repo_loaded
            platform_reading = self._platform
        now = datetime.now(UTC)
        conn = connection
        return FleetSnapshot(
            version=version,
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
            smoke_problem=smoke_problem,
            appsets=appsets,
            complete=repo_loaded
            and all(k.status != KindStatus.LOADING for k in kind_states.values()),
            platform_reading=platform_reading,
        )

    def _note_unhealthy(self, rebuilt: set[str]) -> None:
        """Keep `unhealthy` current for the tenants just rebuilt (lock held)."""
        unhealthy = set(self.unhealthy)
        for name in rebuilt:
            tenant = self._cache.get(name)
            if tenant is not None and tenant.health is not Health.HEALTHY:
                unhealthy.add(name)
            else:
                unhealthy.discard(name)
        if unhealthy != self.unhealthy:
            self.unhealthy = frozenset(unhealthy)


def _is_good(result: Any) -> bool:
    return getattr(result, "ok", None) is True or getattr(result, "state", None) == "ok"
