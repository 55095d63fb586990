"""The process entry point (`ncconsole`, `python -m ncconsole`): Ctrl-C at any moment —
while Python is still importing the console, while a kubeconfig plugin runs, or on the way
out — ends the process with exit 130 and no traceback.

It imports nothing heavy itself, so the interrupt handler is in place before click, the
Kubernetes client or Textual start loading.
"""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130


def main(argv: list[str] | None = None) -> None:
    try:
        from ncconsole.cli import main as cli_main

        cli_main(argv)
    except KeyboardInterrupt:
        _quit_quietly()


def _quit_quietly() -> None:
    """Exit 130 now: a second Ctrl-C while threads are joined at exit must not print one."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, KeyboardInterrupt):
        pass
    os._exit(INTERRUPTED)
