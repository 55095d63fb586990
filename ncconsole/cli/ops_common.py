"""What the action commands share: --read-only, confirmation, SIGTERM as Ctrl-C, a session."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ncconsole.cli.common import cluster_options, repo_option


def read_only_option(func: Any) -> Any:
    return click.option(
        "--read-only", is_flag=True, default=False, help="Refuse every state-changing action."
    )(func)


def common_options(func: Any) -> Any:
    return repo_option(cluster_options(read_only_option(func)))


def interactive() -> bool:
    """Whether a person can answer a prompt (prompts are written to stderr)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirmer(yes: bool) -> Any:
    """A confirm(question) callback: --yes agrees, a terminal asks, otherwise no."""

    def confirm(question: str) -> bool:
        if yes:
            return True
        return interactive() and click.confirm(question, default=False, err=True)

    return confirm


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the action like Ctrl-C does, so it is audited as interrupted."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def warn(text: str) -> None:
    if text:
        click.echo(f"ncconsole: warning: {text}", err=True)
