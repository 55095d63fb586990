"""What the benchmark reads about this process and the machine: RSS, CPU time, load, hardware.

Everything comes from /proc and os.times (no psutil): RSS is VmRSS of /proc/self/status,
CPU is user + system time of every thread of this process, load is /proc/loadavg.
"""

from __future__ import annotations

import os
import platform
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any


def rss_mb() -> float:
    """Resident set size of this process, in MB (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    """User + system CPU seconds used so far by every thread of this process."""
    times = os.times()
    return times.user + times.system


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (e.g. the simulator's)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The 1-minute load average: how busy the (shared) machine was around a figure."""
    with open("/proc/loadavg", encoding="ascii") as fh:
        return float(fh.read().split()[0])


@dataclass
class CpuWindow:
    """CPU used by this process between `start()` and `stop()`, as % of one core."""

    wall: float = 0.0
    cpu: float = 0.0
    _wall0: float = 0.0
    _cpu0: float = 0.0

    def start(self) -> CpuWindow:
        self._wall0, self._cpu0 = time.monotonic(), cpu_seconds()
        return self

    def stop(self) -> float:
        self.wall = time.monotonic() - self._wall0
        self.cpu = cpu_seconds() - self._cpu0
        return self.percent

    @property
    def percent(self) -> float:
        return 100.0 * self.cpu / self.wall if self.wall > 0 else 0.0


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and Python version, for RESULTS.md."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def percentile(values: list[float], pct: float) -> float | None:
    """The `pct` percentile (0..100) by the nearest-rank-interpolating method; None if empty."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


class CountingPool:
    """Wraps the API client's urllib3 PoolManager and counts the requests sent through it.

    Measurement only: the benchmark wraps the pool of its own connection so that every API
    request of the console (lists, watch streams, heartbeats) is counted where it leaves.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.count = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.count += 1
        return self._inner.request(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def count_requests(connection: Any) -> CountingPool:
    """Count the requests of a KubeConnection from now on; returns the counter."""
    rest = connection.api.rest_client
    pool = CountingPool(rest.pool_manager)
    rest.pool_manager = pool
    return pool
