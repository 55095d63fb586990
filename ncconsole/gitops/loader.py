"""Loading the platform repository from disk into the model, never failing on bad content.

Only a repository that cannot be read at all raises RepoError; every problem inside a file
becomes a finding later (see rules.py), and the other files still load.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ncconsole.errors import RepoError
from ncconsole.gitops.model import (
    COMMON_FILE,
    ENV_DIR,
    TENANTS_DIR,
    Repo,
    Tenant,
    TenantFile,
)
from ncconsole.gitops.yamlsource import YamlDoc, load_yaml

REQUIRED_FIELDS = (
    "tenant.name",
    "tenant.environment",
    "tenant.wave",
    "tenant.hostname",
    "tenant.s3.bucket",
)

# The wave is copied verbatim into a label, and `wave=1` does not select `wave=01`.
_WAVE = re.compile(r"0|[1-9][0-9]*")


def parse_wave(value: Any) -> int | None:
    """The wave as an int: a non-negative int, or a string of one in canonical form."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and _WAVE.fullmatch(value):
        return int(value)
    return None


def load_repo(root: Path) -> Repo:
    """Read values/common.yaml, values/env/*.yaml and the tenant files under `root`.

    Raises RepoError only when `root` is not a readable platform repository.
    """
    root = Path(root).expanduser()
    tenants_dir = tenants_dir_of(root)
    try:
        entries = sorted(tenants_dir.rglob("*.yaml"))
    except OSError as err:
        raise RepoError(
            f"{tenants_dir}: cannot list tenant files ({err.strerror or err})"
        ) from None

    common_doc = load_yaml(root / COMMON_FILE) if (root / COMMON_FILE).is_file() else None
    env_docs = {
        path.stem: load_yaml(path)
        for path in sorted((root / ENV_DIR).glob("*.yaml"))
        if path.is_file()
    }
    # A symlink that leads nowhere (a loop, a missing target) is a file the user meant to be
    # a tenant: it is read, and fails as unreadable, instead of vanishing without a word.
    files = [
        _load_tenant_file(root, path) for path in entries if path.is_file() or path.is_symlink()
    ]
    return Repo(
        root=root,
        common=_mapping(common_doc),
        environments={name: _mapping(doc) for name, doc in env_docs.items()},
        files=files,
        common_doc=common_doc,
        env_docs=env_docs,
    )


def tenants_dir_of(root: Path) -> Path:
    """`root`'s tenant directory; RepoError when `root` is not a platform repository."""
    root = Path(root).expanduser()
    tenants_dir = root / TENANTS_DIR
    if not root.is_dir():
        raise RepoError(
            f"{root}: repository path does not exist; pass --repo PATH or set 'repo' in the config"
        )
    if not tenants_dir.is_dir():
        raise RepoError(
            f"{root}: not a platform repository (no {TENANTS_DIR}/ directory); "
            "pass --repo with the GitOps repository's path"
        )
    return tenants_dir


def is_tenant_file_name(name: str) -> bool:
    """tenant-*.yaml: the files ncconsole reads as tenants (directly in the tenant dir)."""
    return name.startswith("tenant-") and name.endswith(".yaml")


def relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _load_tenant_file(root: Path, path: Path) -> TenantFile:
    rel = relative(root, path)
    is_tenant_file = path.parent == root / TENANTS_DIR and is_tenant_file_name(path.name)
    doc = load_yaml(path)
    entry = TenantFile(rel=rel, doc=doc, is_tenant_file=is_tenant_file)
    if is_tenant_file:
        entry.tenant = build_tenant(rel, doc)
    return entry


def build_tenant(rel: str, doc: YamlDoc) -> Tenant | None:
    """A typed Tenant when every required field is present with the right type, else None."""
    fields = required_fields(doc.data)
    if fields is None:
        return None
    name, environment, wave, hostname, bucket = fields
    return Tenant(
        name=name,
        environment=environment,
        wave=wave,
        hostname=hostname,
        bucket=bucket,
        trusted_domains=tuple(text_items(doc.get("nextcloud.trustedDomains"))),
        ingress_hosts=tuple(host for host, _ in ingress_hosts(doc)),
        tls_hosts=tuple(host for host, _ in tls_hosts(doc)),
        file=rel,
        lines=dict(doc.lines),
        values=doc.data,
    )


def required_fields(data: Any) -> tuple[str, str, int, str, str] | None:
    """(name, environment, wave, hostname, bucket) of a tenant file's data when every
    required field is there with the right type — what makes a tenant file usable."""
    if not isinstance(data, dict):
        return None
    values = []
    for dotted in REQUIRED_FIELDS:
        node: Any = data
        for step in dotted.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        values.append(node)
    name, environment, raw_wave, hostname, bucket = values
    wave = parse_wave(raw_wave)
    texts = (name, environment, hostname, bucket)
    if wave is None or not all(isinstance(v, str) and v for v in texts):
        return None
    return name, environment, wave, hostname, bucket


def text_items(value: Any) -> list[str]:
    """The string items of a YAML list (anything else yields nothing)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def ingress_hosts(doc: YamlDoc) -> list[tuple[str, str]]:
    """(host, field path) for every `ingress.hosts[]` entry, as `{host: ...}` or a plain string."""
    result = []
    hosts = doc.get("ingress.hosts")
    for index, item in enumerate(hosts if isinstance(hosts, list) else []):
        path = f"ingress.hosts[{index}]"
        if isinstance(item, dict) and isinstance(item.get("host"), str):
            result.append((item["host"], f"{path}.host"))
        elif isinstance(item, str):
            result.append((item, path))
    return result


def tls_hosts(doc: YamlDoc) -> list[tuple[str, str]]:
    """(host, field path) for every host of every `ingress.tls[]` entry."""
    result = []
    entries = doc.get("ingress.tls")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        hosts = entry.get("hosts") if isinstance(entry, dict) else None
        for host_index, host in enumerate(hosts if isinstance(hosts, list) else []):
            if isinstance(host, str):
                result.append((host, f"ingress.tls[{index}].hosts[{host_index}]"))
    return result


def _mapping(doc: YamlDoc | None) -> dict[str, Any]:
    return doc.data if doc is not None and isinstance(doc.data, dict) else {}
