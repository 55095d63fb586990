"""The layer rules hold, and breaking one fails: the import contracts in pyproject.toml
([tool.importlinter], run by `lint-imports` in .ci/run), the scripted CLI and the core loading
without textual, and ops/ never printing."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_deliberate_violation_fails_lint_imports(tmp_path: Path) -> None:
    """On a copy: ops/ importing textual, and the fleet importing ops (an upward edge)."""
    shutil.copytree(ROOT / "ncconsole", tmp_path / "ncconsole")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "ncconsole" / "ops" / "occ.py").open("a") as module:
        module.write("\nimport textual  # a deliberate violation\n")
    with (tmp_path / "ncconsole" / "fleet" / "health.py").open("a") as module:
        module.write("\nimport ncconsole.ops.smoke  # a deliberate violation\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "ncconsole.ops.occ -> textual" in out
    assert "ncconsole.fleet.health -> ncconsole.ops.smoke" in out
    assert "2 broken" in out


def test_cli_and_core_do_not_load_textual() -> None:
    code = (
        "import sys, ncconsole.cli, ncconsole.cli.console, ncconsole.fleet.state, "
        "ncconsole.fleet.model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_ops_never_print() -> None:
    """ops/ returns results and reports through callbacks; the CLI and TUI do the talking.
    (Imports of click and rich are a contract; a bare print() is not an import.)"""
    package = ROOT / "ncconsole" / "ops"
    printing = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert printing == []
