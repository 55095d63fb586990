"""How `wave promote` and `rollback` show progress: a Rich display on a terminal (an overall
bar and one line per tenant), plain timestamped lines otherwise (logs, pipes, CI)."""

from __future__ import annotations

import time

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ncconsole.ops.promotion import Phase, TenantProgress
from ncconsole.ops.promotion.model import FINISHED

PHASE_STYLE = {
    Phase.DONE: "green",
    Phase.FAILED: "red",
    Phase.SKIPPED: "yellow",
    Phase.INTERRUPTED: "yellow",
}


class PlainProgress:
    """One line per change of a tenant's phase or message, for logs and pipes."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, str]] = {}

    def __call__(self, p: TenantProgress) -> None:
        key = (str(p.phase), p.message)
        if self._last.get(p.tenant) == key:
            return
        self._last[p.tenant] = key
        stamp = time.strftime("%H:%M:%S")
        click.echo(f"{stamp} {p.tenant}: {p.phase} ({p.elapsed:.1f}s) {p.message}", err=True)


class RichProgress:
    """An overall bar and one line per tenant with its phase, elapsed time and message."""

    def __init__(self, tenants: list[str]) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[message]}"), console=Console(stderr=True), transient=False,
        )  # fmt: skip
        self.total = self.progress.add_task("wave", total=len(tenants), message="")
        self.tasks: dict[str, TaskID] = {
            t: self.progress.add_task(f"  {t}: queued", total=1, message="", start=False)
            for t in tenants
        }

    def __call__(self, p: TenantProgress) -> None:
        task = self.tasks.get(p.tenant)
        if task is None:
            return
        self.progress.start_task(task)
        style = PHASE_STYLE.get(p.phase, "cyan")
        done = p.phase in FINISHED
        self.progress.update(
            task, description=f"  {p.tenant}: [{style}]{p.phase}[/]",
            message=p.message[:80], completed=1 if done else 0,
        )  # fmt: skip
        if done:
            self.progress.stop_task(task)
            finished = sum(1 for t in self.progress.tasks if t.id != self.total and t.finished)
            self.progress.update(self.total, completed=finished)
