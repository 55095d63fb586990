"""Whether a revision given on the command line can be a sync target, checked locally.

`wave promote --revision X` used to send X to Argo CD, which then failed tenant by tenant.
A revision is accepted when an Application already knows it (as its synced or target
revision, or a prefix of one) or the platform repository's git history has it; otherwise
the command is refused before anything is asked of the cluster. A repository that is not a
git checkout (or no git) cannot say no, so the revision is then left to Argo CD.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


def revision_problem(repo: Path, revision: str, known: Iterable[str]) -> str:
    """Why `revision` cannot be a target ("" when it can, or cannot be checked here)."""
    if not revision:
        return ""
    if revision.startswith("-") or any(c.isspace() for c in revision):
        return f"revision '{revision}' is not a revision (a commit, tag or branch name)"
    if any(k.startswith(revision) for k in known if k):
        return ""
    git = shutil.which("git")
    if git is None or not (Path(repo) / ".git").exists():
        return ""
    try:
        done = subprocess.run(
            [git, "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if done.returncode == 0:
        return ""
    return (
        f"revision '{revision}' is not in the repository {repo} and no Application knows it; "
        f"check it, or `git -C {repo} fetch` if it was pushed from elsewhere"
    )
