"""What wave list, promote and rollback share: a connection, a live FleetState (the TUI's
own, or one started here), the owning ApplicationSet's strategy (read once per `open()`;
`refresh_strategy()` reads it again) and the smoke record."""

from __future__ import annotations

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.model import FleetSnapshot
from ncconsole.fleet.smoke_record import SmokeRecord
from ncconsole.fleet.state import FleetState, FleetTimeout
from ncconsole.kube.appset_strategy import AppSetStrategy, read_appset_strategy
from ncconsole.kube.connection import KubeConnection, check_identity, connect
from ncconsole.ops.audit import Auditor
from ncconsole.ops.errors import OpsError
from ncconsole.ops.promotion.engine import WavePromotion
from ncconsole.ops.promotion.gates import wave_overview
from ncconsole.ops.promotion.model import ProgressCallback, PromotionOptions
from ncconsole.ops.promotion.smoke_runner import FleetSmoke
from ncconsole.ops.promotion.waves import WaveOverview
from ncconsole.settings import Settings


class WaveSession:
    """`open()` then `overview()`, `promotion(...)`, `smoke()`; `close()` at the end. One
    session serves many promotions (the console keeps one)."""

    def __init__(
        self,
        settings: Settings,
        *,
        conn: KubeConnection | None = None,
        fleet: FleetState | None = None,
        record: SmokeRecord | None = None,
    ) -> None:
        self.settings = settings
        self.conn = conn or (fleet.connection if fleet is not None else None)
        self.fleet = fleet
        self._own_fleet = fleet is None
        self.record = record or SmokeRecord()
        self.auditor: Auditor | None = None
        self.strategy: AppSetStrategy | None = None
        self._smokers: list[FleetSmoke] = []
        self._promotion_smoke: FleetSmoke | None = None

    def open(self, timeout: float = 30.0) -> WaveSession:
        if self.conn is None:
            self.conn = connect(self.settings)
            check_identity(self.conn)
        if self.fleet is None:
            self.fleet = FleetState(self.settings, connection=self.conn, probes=False)
            self.fleet.start()
        try:
            self.fleet.wait_for(lambda s: s.complete, timeout)
        except FleetTimeout:
            raise OpsError(
                f"the fleet could not be read within {timeout:g} s (API or repo unavailable)"
            ) from None
        self.auditor = Auditor(self.settings, self.conn)
        self.refresh_strategy()
        return self

    def close(self) -> None:
        for smoker in self._smokers:
            smoker.close()
        if self._own_fleet and self.fleet is not None:
            self.fleet.stop()

    def __enter__(self) -> WaveSession:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def smoke_problem(self) -> str:
        """Why the smoke record could not be read (by the fleet) or written (by a smoke run
        here), or ""."""
        read = self.fleet.snapshot.smoke_problem if self.fleet is not None else ""
        return self.record.problem or read

    def refresh_strategy(self) -> AppSetStrategy | None:
        """Read the owning ApplicationSet's strategy again (RollingSync step statuses change
        as its controller works); None when the ApplicationSet does not exist."""
        assert self.conn is not None
        ns, name = self.settings.argocd_namespace, self.settings.applicationset
        try:
            self.strategy = read_appset_strategy(self.conn, ns, name)
        except NcConsoleError:
            self.strategy = None  # unreadable now: not a stale strategy taken for the current
            raise
        return self.strategy

    def overview(self, revision: str = "", snapshot: FleetSnapshot | None = None) -> WaveOverview:
        """The waves of `snapshot` (default: the fleet's newest) with the session's strategy."""
        assert self.fleet is not None
        snapshot = snapshot or self.fleet.snapshot
        return wave_overview(snapshot, self.settings, self.strategy, revision=revision)

    def smoke(self, ignore: tuple[str, ...] = (), settle: float = 30.0) -> FleetSmoke:
        assert self.fleet is not None and self.conn is not None
        smoker = FleetSmoke(
            self.fleet, self.conn, self.settings, self.record, settle=settle, ignore=ignore
        )
        self._smokers.append(smoker)
        return smoker

    def promotion(
        self, options: PromotionOptions, on_progress: ProgressCallback | None = None
    ) -> WavePromotion:
        assert self.fleet is not None and self.conn is not None
        fleet = self.fleet
        if self._promotion_smoke is None:
            self._promotion_smoke = self.smoke()
        return WavePromotion(
            self.conn,
            self.settings,
            options,
            snapshot=lambda: fleet.snapshot,
            strategy=self.strategy,
            run_smoke=self._promotion_smoke,
            auditor=self.auditor,
            on_progress=on_progress,
        )
