"""The promote question's versions read from Argo CD's revision keys: a multi-source key's
chart version is what Argo CD deploys, the Nextcloud version comes from values/common.yaml at
the key's values commit (a real git repository in tmp_path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ncconsole.gitops.release import describe_change
from ncconsole.ops.promotion.versions import chart_version, values_commit

SHA_A = "a" * 40
SHA_B = "b" * 40


def test_the_values_commit_and_chart_of_a_revision_key():
    assert values_commit(f"6.6.9,{SHA_A}") == SHA_A
    assert chart_version(f"6.6.9,{SHA_A}") == "6.6.9"
    assert values_commit(SHA_B) == SHA_B  # single-source: the one revision is the commit
    assert chart_version(SHA_B) is None  # ... and values/common.yaml names the chart
    assert values_commit("") == "" and chart_version("") is None


def _commit(repo: Path, chart: str, tag: str) -> str:
    (repo / "values").mkdir(exist_ok=True)
    (repo / "values" / "common.yaml").write_text(
        f"chart:\n  version: {chart}\nimage:\n  tag: {tag}-apache\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", chart], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_the_chart_source_wins_over_common_values(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    old = _commit(tmp_path, "6.6.4", "30.0.6")
    new = _commit(tmp_path, "6.6.4", "30.0.8")  # the values file lags behind the chart source
    assert describe_change(tmp_path, old, new) == "Nextcloud 30.0.6 → 30.0.8"
    assert (
        describe_change(tmp_path, old, new, charts=("6.6.4", "6.6.9"))
        == "chart 6.6.4 → 6.6.9, Nextcloud 30.0.6 → 30.0.8"
    )
    assert describe_change(tmp_path, old, "c" * 40) == ""  # not in the clone
