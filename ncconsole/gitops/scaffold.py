"""Adding a tenant: render its values file, check the repo with it, then write it atomically.

This is the platform's ADDING-TENANT flow: nothing is written when the new file would make the
repository invalid or when the file already exists.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from ncconsole.errors import NcConsoleError
from ncconsole.gitops.loader import build_tenant, load_repo, parse_wave
from ncconsole.gitops.model import TENANTS_DIR, Finding, Repo, Tenant, TenantFile
from ncconsole.gitops.naming import MAX_NAME, is_dns_label
from ncconsole.gitops.rules import validate
from ncconsole.gitops.yamlsource import parse_yaml
from ncconsole.settings import Settings

_PLAIN = re.compile(r"[a-z0-9][a-z0-9._-]*", re.IGNORECASE)
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


class TenantRejected(NcConsoleError):
    """The new tenant was not written; `findings` are the errors it would have caused."""

    exit_code = 1

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


@dataclass(frozen=True)
class NewTenant:
    path: Path
    rel: str
    tenant: Tenant
    # Errors already in the repository before this tenant; they did not block the write.
    existing_errors: list[Finding]


def default_environment(repo: Repo) -> str:
    """The environment most tenants use, or the only environment file; else ask for it."""
    counts = Counter(t.environment for t in repo.tenants).most_common(2)
    if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
        return counts[0][0]
    if not counts and len(repo.environments) == 1:
        return next(iter(repo.environments))
    known = ", ".join(sorted(repo.environments)) or "none found in values/env/"
    raise TenantRejected(f"cannot choose an environment; pass --environment (known: {known})")


def render_tenant_values(
    name: str,
    environment: str,
    wave: int,
    hostname: str,
    bucket: str,
    *,
    quote_wave: bool = True,
    flow_lists: bool = True,
) -> str:
    """The tenant file in the platform's shape (DOMAIN.md §1).

    `quote_wave` and `flow_lists` follow the existing files: `wave: "1"` and `[a, b]` lists as
    in the seed repository, or `wave: 1` and block lists.
    """
    host = _scalar(hostname)
    tls_secret = _scalar(f"nextcloud-{name}-tls")
    wave_text = f'"{wave}"' if quote_wave else str(wave)
    head = (
        "tenant:\n"
        f"  name: {_scalar(name)}\n"
        f"  environment: {_scalar(environment)}\n"
        f"  wave: {wave_text}\n"
        f"  hostname: {host}\n"
        "  s3:\n"
        f"    bucket: {_scalar(bucket)}\n"
        "nextcloud:\n"
        f"  host: {host}\n"
    )
    if flow_lists:
        return head + (
            f"  trustedDomains: [{host}]\n"
            "ingress:\n"
            f"  tls: [{{secretName: {tls_secret}, hosts: [{host}]}}]\n"
            f"  hosts: [{{host: {host}, paths: [{{path: /, pathType: Prefix}}]}}]\n"
        )
    return head + (
        "  trustedDomains:\n"
        f"    - {host}\n"
        "ingress:\n"
        "  tls:\n"
        f"    - secretName: {tls_secret}\n"
        "      hosts:\n"
        f"        - {host}\n"
        "  hosts:\n"
        f"    - host: {host}\n"
        "      paths:\n"
        "        - path: /\n"
        "          pathType: Prefix\n"
    )


def create_tenant(
    root: Path,
    settings: Settings,
    *,
    name: str,
    wave: int,
    hostname: str,
    environment: str | None = None,
    bucket: str | None = None,
) -> NewTenant:
    """Write values/tenants/tenant-NAME.yaml if the repository stays valid with it.

    Raises TenantRejected (exit 1) naming the reason, RepoError (exit 2) for an unreadable repo.
    """
    if not is_dns_label(name) or len(name) > MAX_NAME:
        raise TenantRejected(
            f"tenant name '{name}' is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    if wave < 0:
        raise TenantRejected(f"wave {wave} is negative; use 0 for the canary or a positive wave")
    repo = load_repo(root)
    rel = f"{TENANTS_DIR}/tenant-{name}.yaml"
    path = repo.root / rel
    if path.exists():
        raise TenantRejected(f"{rel} already exists; not overwriting it")
    environment = environment or default_environment(repo)
    text = render_tenant_values(
        name,
        environment,
        wave,
        hostname,
        bucket or f"nextcloud-{name}",
        quote_wave=_quotes_wave(repo),
        flow_lists=_uses_flow_lists(repo),
    )
    before = validate(repo, settings)
    doc = parse_yaml(text, path)
    entry = TenantFile(rel=rel, doc=doc, tenant=build_tenant(rel, doc))
    after = validate(replace(repo, files=[*repo.files, entry]), settings)
    new_errors = [f for f in after if f.is_error and f not in set(before)]
    if new_errors or entry.tenant is None:
        first = new_errors[0] if new_errors else None
        reason = f"{first.rule}: {first.message}" if first else "the rendered file does not load"
        more = f" (and {len(new_errors) - 1} more)" if len(new_errors) > 1 else ""
        raise TenantRejected(f"{rel} not written: {reason}{more}", new_errors)
    _write_new_file(path, text)
    return NewTenant(path, rel, entry.tenant, [f for f in before if f.is_error])


def _quotes_wave(repo: Repo) -> bool:
    """Follow the existing files: quoted waves (the seed's style) unless all use plain ints."""
    waves = [f.doc.get("tenant.wave") for f in repo.tenant_files if isinstance(f.doc.data, dict)]
    waves = [w for w in waves if parse_wave(w) is not None]
    return not waves or any(isinstance(w, str) for w in waves)


def _uses_flow_lists(repo: Repo) -> bool:
    """Whether the first readable tenant file writes its lists inline, as the seed does."""
    for entry in repo.tenant_files:
        if entry.tenant is not None:
            try:
                text = entry.doc.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            return bool(re.search(r"^\s*trustedDomains:\s*\[", text, re.MULTILINE))
    return True


def _scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (quoted only when needed)."""
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and parse_wave(value) is None:
        try:
            float(value)
        except ValueError:
            return value
    return json.dumps(value)


def _write_new_file(path: Path, text: str) -> None:
    """Write via a temp file in the same directory, then link it into place without clobbering."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # fails if the file appeared meanwhile: never overwrite
        except FileExistsError:
            raise TenantRejected(
                f"{path.name} appeared while writing; not overwriting it"
            ) from None
        except OSError:
            if path.exists():
                raise TenantRejected(f"{path.name} already exists; not overwriting it") from None
            os.replace(tmp, path)  # file systems without hard links
    except OSError as err:
        raise NcConsoleError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
