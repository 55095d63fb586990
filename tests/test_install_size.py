"""A plain install stays lean: the simulator's dependencies are the `sim` extra, and moto comes
without its [server] extra (cfn-lint, sympy, docker: ~90 MB the simulator never uses)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"cfn-lint", "sympy", "networkx", "docker", "aws-xray-sdk"}


def _lock() -> dict[str, dict]:
    data = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package for package in data["package"]}


def test_a_plain_install_has_no_simulator_and_nothing_heavy():
    packages = _lock()
    plain = {dep["name"] for dep in packages["ncconsole"]["dependencies"]}
    assert not plain & {"moto", "aiohttp", "trustme", "flask"}
    sim = packages["ncconsole"]["optional-dependencies"]["sim"]
    assert {dep["name"] for dep in sim} >= {"moto", "aiohttp", "trustme"}
    assert all("server" not in dep.get("extra", []) for dep in sim if dep["name"] == "moto")
    assert not HEAVY & set(packages), "a heavy package came back into the lock file"


def test_demo_without_the_sim_extra_says_what_to_install(tmp_path):
    # find_spec answers None for a module set to None in sys.modules: as if not installed.
    code = (
        "import sys; sys.modules['trustme'] = None; from ncconsole.cli import main; "
        f"main(['sim', '--workdir', {str(tmp_path / 'w')!r}])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "ncconsole: error: the simulator is not installed (missing: trustme); install the "
        "'sim' extra: pip install 'ncconsole[sim]' (in a clone, `uv run` installs it)"
    ]
