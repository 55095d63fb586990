"""The simulator as a separate process (`ncconsole sim`), so its CPU is not the console's.

with SimProcess(tenants=500, workdir=tmp) as sim:
    sim.kubeconfig, sim.config_path, sim.pid
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


class SimStartError(RuntimeError):
    pass


class SimProcess:
    def __init__(
        self,
        tenants: int,
        workdir: Path,
        scenario: Path | None = None,
        start_timeout: float = 600.0,
    ) -> None:
        self.tenants = tenants
        self.scenario = scenario
        self.workdir = Path(workdir)
        self.kubeconfig = self.workdir / "kubeconfig"
        self.config_path = self.workdir / "config.yaml"
        self.log_path = self.workdir / "sim.log"
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> SimProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        what = ["--tenants", str(self.tenants)]
        if self.scenario is not None:
            what = ["--scenario", str(self.scenario)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ncconsole", "sim", *what,
                 "--workdir", str(self.workdir), "--parent-pid", str(os.getpid())],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = began + self.start_timeout
        # The kubeconfig is written last, atomically: its presence means "ready".
        while not self.kubeconfig.exists():
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise SimStartError(f"simulator exited while starting: {' | '.join(tail)}")
            if time.monotonic() > deadline:
                self.stop()
                raise SimStartError(f"simulator not ready after {self.start_timeout:.0f} s")
            time.sleep(0.1)
        self.started_in = time.monotonic() - began
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the simulator process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
