"""What changes for a tenant between two commits of the local platform repository: its chart
version and its three values files (values/common.yaml, values/env/<environment>.yaml,
values/tenants/tenant-<name>.yaml), as unified diffs and a one-line summary such as
"6.6.4 → 6.6.9, values: 2 lines in common.yaml".

Read with `git show COMMIT:PATH` in the local clone; a commit the clone does not have is said
so, with the command that fetches it.
"""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ncconsole.gitops.model import COMMON_FILE, ENV_DIR, TENANTS_DIR

GIT_TIMEOUT = 15.0


class GitUnavailable(Exception):
    """The repository (or git itself) cannot be read; str() says why."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise GitUnavailable("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitUnavailable(f"git {' '.join(args)} took over {GIT_TIMEOUT:g} s") from None


def resolve(repo: Path, revision: str) -> str | None:
    """The full commit sha `revision` (sha, prefix, branch, tag, HEAD) names locally, or None."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def show(repo: Path, commit: str, path: str) -> str | None:
    """The file at `commit`, or None when it does not exist there."""
    done = _git(repo, "show", f"{commit}:{path}")
    return done.stdout if done.returncode == 0 else None


def fetch_hint(repo: Path, commit: str) -> str:
    return (
        f"commit {commit[:12]} is not in the local repository {repo}; fetch it with "
        f"`git -C {repo} fetch --all` (or pull), then try again"
    )


@dataclass(frozen=True)
class FileDiff:
    path: str
    changed_lines: int
    text: str  # unified diff, "" when unchanged

    @property
    def label(self) -> str:
        return self.path.removeprefix("values/")


@dataclass
class ValuesDiff:
    """Between `old` and `new` (full shas; "" when unknown) for one tenant."""

    tenant: str
    old: str
    new: str
    old_chart: str = ""
    new_chart: str = ""
    files: list[FileDiff] = field(default_factory=list)
    problem: str = ""  # why the diff could not be made (a missing commit: how to fetch it)

    @property
    def changed(self) -> list[FileDiff]:
        return [f for f in self.files if f.changed_lines]

    def summary(self) -> str:
        if self.problem:
            return self.problem
        if self.old_chart != self.new_chart:
            chart = f"{self.old_chart or '?'} → {self.new_chart or '?'}"
        else:
            chart = f"chart {self.new_chart or '?'} unchanged"
        if self.old == self.new:
            return f"{chart}, same commit {self.new[:7]}"
        changed = self.changed
        if not changed:
            return f"{chart}, values: no change"
        parts = [
            f"{f.changed_lines} line{'s' if f.changed_lines != 1 else ''} in {f.label}"
            for f in changed
        ]
        return f"{chart}, values: {', '.join(parts)}"

    def unified(self) -> str:
        return "".join(f.text for f in self.changed)

    def as_dict(self) -> dict[str, object]:
        return {
            "tenant": self.tenant,
            "from": {"commit": self.old, "chart": self.old_chart},
            "to": {"commit": self.new, "chart": self.new_chart},
            "summary": self.summary(),
            "problem": self.problem or None,
            "files": [
                {"path": f.path, "changed_lines": f.changed_lines, "diff": f.text}
                for f in self.files
            ],
        }


def _environment(tenant_file: str | None) -> str:
    try:
        doc = yaml.safe_load(tenant_file or "") or {}
    except yaml.YAMLError:
        return ""
    tenant = doc.get("tenant") if isinstance(doc, dict) else None
    return str(tenant.get("environment") or "") if isinstance(tenant, dict) else ""


def chart_version(common_file: str | None) -> str:
    try:
        doc = yaml.safe_load(common_file or "") or {}
    except yaml.YAMLError:
        return ""
    chart = doc.get("chart") if isinstance(doc, dict) else None
    return str(chart.get("version") or "") if isinstance(chart, dict) else ""


def _changed_lines(old: list[str], new: list[str]) -> int:
    count = 0
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            count += max(i2 - i1, j2 - j1)
    return count


def values_diff(
    repo: Path, tenant: str, old: str, new: str, *, old_chart: str = "", new_chart: str = ""
) -> ValuesDiff:
    """The diff of `tenant`'s values between commits `old` and `new` (any git revision
    names). Chart versions given (from Argo CD's multi-source revisions) win over the ones
    read from common.yaml."""
    result = ValuesDiff(tenant, old, new, old_chart, new_chart)
    try:
        shas = []
        for revision in (old, new):
            sha = resolve(repo, revision) if revision else None
            if sha is None:
                result.problem = (
                    fetch_hint(repo, revision) if revision else "the deployed revision is not known"
                )
                return result
            shas.append(sha)
        result.old, result.new = shas
        tenant_path = f"{TENANTS_DIR}/tenant-{tenant}.yaml"
        old_tenant, new_tenant = show(repo, shas[0], tenant_path), show(repo, shas[1], tenant_path)
        envs = {_environment(old_tenant), _environment(new_tenant)} - {""}
        paths = [COMMON_FILE, *(f"{ENV_DIR}/{env}.yaml" for env in sorted(envs)), tenant_path]
        for path in paths:
            before = show(repo, shas[0], path) or ""
            after = show(repo, shas[1], path) or ""
            if path == COMMON_FILE:
                result.old_chart = result.old_chart or chart_version(before)
                result.new_chart = result.new_chart or chart_version(after)
            a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
            text = "".join(
                difflib.unified_diff(a, b, f"a/{path} ({shas[0][:7]})", f"b/{path} ({shas[1][:7]})")
            )
            if text and not text.endswith("\n"):
                text += "\n"
            result.files.append(FileDiff(path, _changed_lines(a, b), text))
    except GitUnavailable as err:
        result.problem = f"{repo}: {err}"
    return result
