"""The shared platform read again and again for the live fleet: PgBouncer, Redis, Alertmanager
and the certificates, every `interval` seconds, on a thread of its own.

The next reading is scheduled only once the current one has finished (a component that hangs
delays the next reading, it never stacks readings up), and nothing waits for a reading: the
fleet shows the last one with its time. How a reading is taken is handed in (`read`, in
practice ops/platform.read_platform on the fleet's connection), so the fleet does not depend
on the actions layer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ncconsole.platform.alertmanager import AlertsReading
from ncconsole.platform.certificates import CertificatesReading
from ncconsole.platform.model import Verdict, unreachable
from ncconsole.platform.pgbouncer import PgBouncerReading
from ncconsole.platform.reading import PlatformReading
from ncconsole.platform.redis_info import RedisReading

log = logging.getLogger(__name__)

PlatformReader = Callable[[], PlatformReading]


def failed_reading(error: BaseException, now: datetime) -> PlatformReading:
    """A reading that failed as a whole (a bug, not a component that is down): every
    component unknown, with the reason."""
    why = unreachable(f"the platform reading failed: {type(error).__name__}: {error}")
    return PlatformReading(
        pgbouncer=PgBouncerReading(Verdict.UNKNOWN, why),
        redis=RedisReading(Verdict.UNKNOWN, why),
        alerts=AlertsReading(Verdict.UNKNOWN, why),
        certificates=CertificatesReading(Verdict.UNKNOWN, why),
        read_at=now,
    )


class PlatformPoller:
    """`start()`, `read_now()` (e.g. after a silence was created), `stop()`."""

    def __init__(
        self,
        read: PlatformReader,
        sink: Callable[[PlatformReading], None],
        interval: float,
    ) -> None:
        self._read = read
        self._sink = sink
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="platform", daemon=True)
        self.readings = 0  # taken so far

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # A reading in progress is not interrupted (each component has its own deadline);
        # the thread is a daemon and drops that reading.
        self._stopping.set()
        self._wake.set()

    def read_now(self) -> None:
        """Take the next reading now instead of at the end of the interval (a reading in
        progress is followed by another at once)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            started = time.monotonic()
            try:
                reading = self._read()
            except Exception as err:  # the reader never raises by contract; say it if it does
                log.exception("platform reading failed")
                reading = failed_reading(err, datetime.now(UTC))
            if self._stopping.is_set():
                return
            self.readings += 1
            self._sink(reading)
            log.debug("platform read in %.2f s", time.monotonic() - started)
            self._wake.wait(self.interval)
