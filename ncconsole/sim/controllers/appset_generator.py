"""The ApplicationSet's git files generator: every tenant file at a revision, as a TenantSpec.

As in Argo CD, a file that cannot be parsed, or that names no valid tenant, generates nothing.
Blobs are parsed once (cached by blob id), so re-reading a large repo after a commit costs one
`git ls-tree` and the changed files only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ncconsole.sim.platform_repo.files import COMMON_VALUES
from ncconsole.sim.scenario import TenantSpec

TENANT_DIR = "values/tenants"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cache: dict[str, dict[str, Any] | str] = {}  # blob id -> parsed mapping, or the parse error
_CACHE_LIMIT = 50_000


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True)
    return done.stdout


def _parse(blob: bytes) -> dict[str, Any] | str:
    """The file's mapping, or what Helm would say about it."""
    try:
        data = yaml.load(blob, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        return f"error converting YAML to JSON: yaml: {where}{getattr(err, 'problem', err)}"
    return data if isinstance(data, dict) else "error unmarshaling JSON: not a mapping"


def parse_errors(repo: Path, revision: str) -> list[str]:
    """`path: problem` for every values file at `revision` that does not parse."""
    blobs = _listing(repo, revision)
    _read_blobs(repo, list(blobs.values()))
    return [
        f"{path}: {_cache[b]}" for path, b in sorted(blobs.items()) if isinstance(_cache[b], str)
    ]


def _listing(repo: Path, revision: str) -> dict[str, str]:
    listing = _git(repo, "ls-tree", "-r", "-z", revision, "--", COMMON_VALUES, TENANT_DIR)
    blobs: dict[str, str] = {}
    for entry in listing.split(b"\0"):
        if entry:
            meta, _, path = entry.partition(b"\t")
            if path.endswith((b".yaml", b".yml")):
                blobs[path.decode()] = meta.split()[2].decode()
    return blobs


def _read_blobs(repo: Path, blobs: list[str]) -> None:
    if len(_cache) > _CACHE_LIMIT:
        _cache.clear()
    wanted = [b for b in blobs if b not in _cache]
    if not wanted:
        return
    out = _git(repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode())
    pos = 0
    while pos < len(out):
        header_end = out.index(b"\n", pos)
        blob, _kind, size = out[pos:header_end].split()
        start = header_end + 1
        _cache[blob.decode()] = _parse(out[start : start + int(size)])
        pos = start + int(size) + 1


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def tenant_specs(repo: Path, revision: str, domain: str) -> dict[str, TenantSpec]:
    """Tenant name -> its spec, for every tenant file at `revision`."""
    blobs = _listing(repo, revision)
    _read_blobs(repo, list(blobs.values()))
    common = _cache.get(blobs.get(COMMON_VALUES, "")) or {}
    common = common if isinstance(common, dict) else {}
    default_replicas = _dig(common, "replicaCount")
    specs: dict[str, TenantSpec] = {}
    for path, blob in blobs.items():
        values = _cache.get(blob)
        if path == COMMON_VALUES or not isinstance(values, dict):
            continue
        tenant = values.get("tenant") or {}
        try:
            spec = TenantSpec(
                name=str(_dig(tenant, "name") or ""),
                wave=int(str(_dig(tenant, "wave"))),
                environment=str(_dig(tenant, "environment") or "prod"),
                hostname=str(_dig(tenant, "hostname") or ""),
                bucket=str(_dig(tenant, "s3", "bucket") or ""),
                replicas=int(values.get("replicaCount") or default_replicas or 3),
                image_tag=_dig(values, "image", "tag"),
            )
        except (ValidationError, ValueError, TypeError):
            continue
        spec.hostname = spec.hostname or f"{spec.name}.{domain}"
        spec.bucket = spec.bucket or f"nextcloud-{spec.name}"
        specs.setdefault(spec.name, spec)
    return specs
