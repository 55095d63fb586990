"""Only ncconsole.tui imports textual: the scripted CLI and the core stay usable without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def test_cli_and_core_do_not_load_textual():
    code = (
        "import sys, ncconsole.cli, ncconsole.cli.console, ncconsole.fleet.state, "
        "ncconsole.fleet.model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_console_reaches_the_cluster_only_through_ops():
    """tui/ renders and dispatches; the Kubernetes layer is ops/' business."""
    package = Path(__file__).resolve().parents[2] / "ncconsole" / "tui"
    offenders = {
        str(path.relative_to(package)): sorted(
            name
            for name in _imports(path)
            if name.startswith(("ncconsole.kube", "kubernetes", "ncconsole.probes"))
        )
        for path in package.rglob("*.py")
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_ops_never_print():
    """ops/ returns results and reports through callbacks; the CLI and TUI do the talking."""
    package = Path(__file__).resolve().parents[2] / "ncconsole" / "ops"
    printing = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if {"click", "rich.console"} & _imports(path)
        or any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert printing == []
