"""CLI tables as scripts see them (stdout is a pipe): never cut to 80 columns, `--format tsv`
one line per row, and audit times with their date and time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario

pytestmark = pytest.mark.timeout(90)
LONG = "omgevingsdienst-haaglanden-en-omstreken"  # longer than the 30 of a cut TENANT column


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    tenants = [
        {"name": "canary", "wave": 0, "replicas": 1},
        {"name": LONG, "wave": 1, "replicas": 2, "faults": {"degraded": True}},
    ]
    workdir = tmp_path_factory.mktemp("piped") / "sim"
    with Simulator(scenario(tenants), workdir=workdir) as running:
        yield running


def ncconsole(sim: Simulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCCONSOLE_")}
    env |= {
        "NCCONSOLE_CONFIG": str(sim.config_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "COLUMNS": "80",  # what a terminal would say: a pipe must not be cut to it
        "TZ": "Europe/Amsterdam",
    }
    return subprocess.run(
        [sys.executable, "-m", "ncconsole", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_status_piped_is_full_width_and_tsv_is_one_line_per_tenant(sim, tmp_path):
    table = ncconsole(sim, tmp_path, "status")
    assert table.returncode == 1, table.stderr  # the degraded tenant
    row = next(line for line in table.stdout.splitlines() if line.startswith(LONG))
    assert len(row) > 80 and "CrashLoopBackOff" in row  # the REASON whole
    header = next(line for line in table.stdout.splitlines() if "TENANT" in line)
    assert header.split()[:3] == ["TENANT", "HEALTH", "REASON"]
    assert header.rstrip().endswith("PROBED")  # every column, none cut off

    tsv = ncconsole(sim, tmp_path, "status", "--format", "tsv")
    lines = tsv.stdout.splitlines()
    assert lines[0].split("\t")[:4] == ["WAVE", "TENANT", "HEALTH", "REASON"]
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], r[1]) for r in rows] == [("0", "canary"), ("1", LONG)]
    assert all(len(r) == len(lines[0].split("\t")) for r in rows)
    assert rows[1][3].startswith("CrashLoopBackOff")


def test_tenants_and_wave_list_as_tsv(sim, tmp_path):
    tenants = ncconsole(sim, tmp_path, "tenants", "--format", "tsv").stdout.splitlines()
    assert tenants[0].startswith("WAVE\tNAME")
    assert any(line.split("\t")[1] == LONG for line in tenants[1:])
    waves = ncconsole(sim, tmp_path, "wave", "list", "--format", "tsv")
    assert waves.returncode == 0, waves.stderr
    lines = waves.stdout.splitlines()
    assert lines[0].split("\t")[0] == "WAVE" and len(lines) == 3


def test_audit_times_carry_the_date_and_the_zone(sim, tmp_path):
    state = tmp_path / "state" / "ncconsole"
    state.mkdir(parents=True)
    entry = {
        "who": {"os_user": "oncall", "cluster_user": "oncall@example.com"},
        "action": "secret.rotate", "target": f"nc-{LONG}/nextcloud-secrets",
        "result": "ok", "exit_code": 0, "message": "",
        "start": "2026-12-04T18:34:38.000+00:00", "end": "2026-12-04T18:34:39.000+00:00",
    }  # fmt: skip
    (state / "audit.jsonl").write_text(json.dumps(entry) + "\n")
    audit = ncconsole(sim, tmp_path, "audit")
    row = audit.stdout.splitlines()[1]
    assert row.strip().startswith("2026-12-04 19:34:38 +01:00")  # Amsterdam in winter
    assert row.endswith(f"nc-{LONG}/nextcloud-secrets")  # not folded mid-word, no padding
    tsv = ncconsole(sim, tmp_path, "audit", "--format", "tsv").stdout.splitlines()
    assert tsv[1].split("\t")[0] == "2026-12-04 19:34:38 +01:00"
