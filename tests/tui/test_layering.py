"""Only ncconsole.tui imports textual: the scripted CLI and the core stay usable without it."""

from __future__ import annotations

import subprocess
import sys


def test_cli_and_core_do_not_load_textual():
    code = (
        "import sys, ncconsole.cli, ncconsole.cli.console_command, ncconsole.fleet, "
        "ncconsole.snapshot; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
