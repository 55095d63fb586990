"""The console's quick read of the repo's tenant files agrees with `ncconsole validate`'s
careful one on which files are usable and what they declare, and reads again only the files
that changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ncconsole.fleet.desired import DesiredReader, load_desired
from ncconsole.fleet.join import DesiredTenant
from ncconsole.gitops.loader import load_repo
from tests.gitops.repo_builder import good_tenants, tenant_yaml, write_repo

ODD_FILES = {
    "tenant-dup.yaml": tenant_yaml("dup") + "tenant:\n  name: other\n",  # a key twice
    "tenant-broken.yaml": "tenant: [unclosed\n",
    "tenant-empty.yaml": "# nothing here\n",
    "tenant-nowave.yaml": tenant_yaml("nowave", wave='"01"'),  # not a canonical wave
    "tenant-list.yaml": "- a\n- b\n",
    "tenant-anchors.yaml": (
        "base: &b {environment: prod, wave: '2', hostname: anc.example.com, s3: {bucket: b-anc}}\n"
        "tenant:\n  <<: *b\n  name: anc\n"
    ),
    "tenant-two-docs.yaml": tenant_yaml("twodocs") + "---\n" + tenant_yaml("again"),
    "tenant-unhashable.yaml": "tenant:\n  [a, b]: 1\n",
    "notes.yaml": tenant_yaml("notes"),  # not a tenant-*.yaml name
    "old/tenant-moved.yaml": tenant_yaml("moved"),  # in a subfolder
}


def careful(repo: Path) -> tuple[dict[str, DesiredTenant], set[str]]:
    loaded = load_repo(repo)
    tenants = {
        t.name: DesiredTenant(t.name, t.wave, t.environment, t.hostname, t.bucket)
        for t in loaded.tenants
    }
    return tenants, {entry.rel for entry in loaded.tenant_files if entry.tenant is None}


def test_the_quick_read_agrees_with_validate_on_usable_files(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", good_tenants(**ODD_FILES))
    desired = load_desired(repo)
    tenants, unusable = careful(repo)
    assert desired.tenants == tenants
    assert {problem.split(":")[0] for problem in desired.problems} == unusable
    assert {"canary", "alpha", "anc"} <= set(desired.tenants) and "dup" not in desired.tenants


def settled(repo: Path) -> Path:
    """Files written this very moment are read again anyway (their stamp may not change with
    a rewrite in the same clock tick): date them back."""
    for path in (repo / "values/tenants").iterdir():
        os.utime(path, (time.time() - 60, time.time() - 60))
    return repo


def test_only_changed_files_are_read_again(tmp_path: Path) -> None:
    repo = settled(write_repo(tmp_path / "repo"))
    reader = DesiredReader(repo)
    first = reader.read()
    assert reader.parsed_last == 4
    assert reader.read().tenants == first.tenants and reader.parsed_last == 0
    (repo / "values/tenants/tenant-alpha.yaml").write_text(tenant_yaml("alpha", wave='"7"'))
    assert reader.read().tenants["alpha"].wave == 7 and reader.parsed_last == 1


def test_a_repo_that_is_not_one_is_unreadable_with_the_reason(tmp_path: Path) -> None:
    desired = load_desired(tmp_path / "missing")
    assert not desired.readable
    assert desired.problems[0].endswith("repository path does not exist; pass --repo PATH "
                                        "or set 'repo' in the config")  # fmt: skip


def test_a_console_started_again_parses_only_what_changed_since(tmp_path: Path) -> None:
    repo = settled(write_repo(tmp_path / "repo"))
    cache = tmp_path / "cache.json"
    first = DesiredReader(repo, cache).read()
    again = DesiredReader(repo, cache)
    assert again.read().tenants == first.tenants and again.parsed_last == 0
    (repo / "values/tenants/tenant-alpha.yaml").write_text(tenant_yaml("alpha", wave='"5"'))
    edited = DesiredReader(repo, cache)
    assert edited.read().tenants["alpha"].wave == 5 and edited.parsed_last == 1
    cache.write_text("{not json")  # a broken cache is no cache
    broken = DesiredReader(repo, cache)
    assert broken.read().tenants == load_desired(repo).tenants and broken.parsed_last == 4


def test_a_file_broken_by_a_commit_keeps_its_tenant_in_its_wave(tmp_path: Path) -> None:
    """Argo CD keeps running what it last rendered and reports a ComparisonError: the tenant
    stays in its wave (where the error blocks the later waves), not an orphan; the problem
    names the file, and a console started again on the cache says the same."""
    repo = settled(write_repo(tmp_path / "repo"))
    cache = tmp_path / "cache.json"
    reader = DesiredReader(repo, cache)
    assert reader.read().tenants["canary"].wave == 0
    path = repo / "values/tenants/tenant-canary.yaml"
    path.write_text(path.read_text() + "x: [unclosed\n")
    for desired in (reader.read(), DesiredReader(repo, cache).read()):
        assert desired.tenants["canary"].wave == 0
        (problem,) = desired.problems
        assert problem.startswith("values/tenants/tenant-canary.yaml: not a usable tenant file")
        assert "last usable reading" in problem
    fresh = load_desired(repo)  # nothing read before: nothing to keep
    assert "canary" not in fresh.tenants and fresh.problems
    path.write_text(tenant_yaml("canary", wave='"3"'))
    assert reader.read().tenants["canary"].wave == 3 and not reader.read().problems
