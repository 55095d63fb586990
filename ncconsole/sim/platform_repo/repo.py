"""The simulated platform's GitOps repository: written from a scenario, read back by revision.

`write_platform_repo` lays out the repo as in DOMAIN.md §1 and commits it; a scenario's pending
upgrade becomes a second commit. The simulated Argo CD then follows HEAD with `head_revision`
and `desired_versions`, which reads every tenant file of a revision with one `git ls-tree` and
one `git cat-file --batch` and parses each blob once (cached by blob id).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple

import yaml  # PyYAML with libyaml: ~10x faster than ruamel for thousands of tenant files

from ncconsole.errors import NcConsoleError
from ncconsole.sim.platform_repo.files import (
    APPPROJECT,
    COMMON_VALUES,
    default_replicas,
    env_values,
    release_files,
    static_files,
    tenant_file,
)
from ncconsole.sim.scenario import Scenario

_AUTHOR = {
    "GIT_AUTHOR_NAME": "ncconsole sim",
    "GIT_AUTHOR_EMAIL": "sim@ncconsole.invalid",
    "GIT_COMMITTER_NAME": "ncconsole sim",
    "GIT_COMMITTER_EMAIL": "sim@ncconsole.invalid",
}
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PlatformRepoError(NcConsoleError):
    """The simulated platform repository cannot be written or read."""


class DesiredVersion(NamedTuple):
    chart_version: str
    image_tag: str


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, **_AUTHOR, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
            cwd=repo,
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise PlatformRepoError("git is not installed; the simulator needs it") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise PlatformRepoError(f"{repo}: git {args[0]} failed: {err[-1] if err else '?'}")
    return done.stdout


def write_platform_repo(scenario: Scenario, path: Path) -> str:
    """Write and commit the GitOps repo for `scenario` at `path`; returns the HEAD sha."""
    path = Path(path)
    if (path / ".git").exists():
        raise PlatformRepoError(f"{path}: already a git repository; choose an empty directory")
    replicas = default_replicas(scenario)
    files = static_files()
    files.update(release_files(scenario, scenario.release, replicas))
    files["argo/projects/nextcloud-platform.yaml"] = APPPROJECT
    for env in scenario.environments:
        files[f"values/env/{env}.yaml"] = env_values(env)
    for tenant in scenario.tenants:
        files[f"values/tenants/tenant-{tenant.name}.yaml"] = tenant_file(tenant, replicas)
    _write_files(path, files)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", f"Platform with {len(scenario.tenants)} Nextcloud tenants")
    if scenario.pending_upgrade:
        upgrade = scenario.pending_upgrade
        message = upgrade.message or (
            f"Upgrade Nextcloud chart to {upgrade.chart_version} ({upgrade.image_tag})"
        )
        commit_change(path, message, release_files(scenario, upgrade, replicas))
    return head_revision(path)


def _write_files(root: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        target = root / rel
        if text is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if rel.endswith(".sh"):
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def commit_change(path: Path, message: str, files: dict[str, str | None]) -> str:
    """Write (or, for None, delete) repo-relative files and commit them; returns the new sha."""
    path = Path(path)
    _write_files(path, files)
    _git(path, "add", "-A", "--", *files)
    _git(path, "commit", "-q", "-m", message)
    return head_revision(path)


def head_revision(path: Path) -> str:
    """The sha HEAD points at. Read from .git directly when it can be: Argo CD's simulated
    repo server polls this often."""
    git_dir = Path(path) / ".git"
    try:
        head = (git_dir / "HEAD").read_text().strip()
        sha = (git_dir / head[5:]).read_text().strip() if head.startswith("ref: ") else head
        if len(sha) == 40:
            return sha
    except OSError:
        pass  # packed refs or a worktree: ask git
    return _git(Path(path), "rev-parse", "HEAD").decode().strip()


# blob id -> (tenant name, chart override, image override); blobs never change.
_tenant_blob_cache: dict[str, tuple[str, str | None, str | None]] = {}
_CACHE_LIMIT = 50_000


def desired_versions(path: Path, revision: str) -> dict[str, DesiredVersion]:
    """Per tenant name, the chart version and image tag that `revision` asks for."""
    path = Path(path)
    listing = _git(path, "ls-tree", "-r", "-z", revision, "--", COMMON_VALUES, "values/tenants")
    blobs: dict[str, str] = {}  # repo path -> blob id
    for entry in listing.split(b"\0"):
        if entry:
            meta, _, name = entry.partition(b"\t")
            blobs[name.decode()] = meta.split()[2].decode()
    if COMMON_VALUES not in blobs:
        raise PlatformRepoError(f"{path}: {COMMON_VALUES} is missing at {revision[:12]}")
    tenant_blobs = {p: b for p, b in blobs.items() if p.endswith((".yaml", ".yml"))}
    tenant_blobs.pop(COMMON_VALUES, None)
    if len(_tenant_blob_cache) > _CACHE_LIMIT:
        _tenant_blob_cache.clear()  # keeps memory flat however long the simulator churns
    wanted = [b for b in tenant_blobs.values() if b not in _tenant_blob_cache]
    contents = _cat_blobs(path, [blobs[COMMON_VALUES], *wanted])
    common = _load(contents[blobs[COMMON_VALUES]]) or {}
    chart = str(_dig(common, "chart", "version") or "")
    image = str(_dig(common, "image", "tag") or "")
    for blob in tenant_blobs.values():
        if blob not in _tenant_blob_cache:
            _tenant_blob_cache[blob] = _tenant_overrides(contents[blob])
    result: dict[str, DesiredVersion] = {}
    for blob in tenant_blobs.values():
        name, chart_override, image_override = _tenant_blob_cache[blob]
        if name:
            result[name] = DesiredVersion(chart_override or chart, image_override or image)
    return result


def _cat_blobs(path: Path, blob_ids: list[str]) -> dict[str, bytes]:
    out = _git(path, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in blob_ids).encode())
    contents: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        header_end = out.index(b"\n", pos)
        blob, _kind, size = out[pos:header_end].split()
        start = header_end + 1
        contents[blob.decode()] = out[start : start + int(size)]
        pos = start + int(size) + 1
    return contents


def _load(data: bytes) -> object:
    try:
        return yaml.load(data, Loader=_YamlLoader)
    except yaml.YAMLError:
        return None


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _tenant_overrides(data: bytes) -> tuple[str, str | None, str | None]:
    """A tenant file's name and version overrides; an unreadable file names no tenant,
    as Argo CD's git generator skips what it cannot parse."""
    values = _load(data)
    name = _dig(values, "tenant", "name")
    chart = _dig(values, "chart", "version")
    image = _dig(values, "image", "tag")
    return (
        str(name) if name else "",
        str(chart) if chart else None,
        str(image) if image else None,
    )
