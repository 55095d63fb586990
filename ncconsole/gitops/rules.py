"""The validation rules for the platform repository; each rule has a stable id.

`validate(repo, settings)` returns every finding, sorted by file and line. Rules read the raw
documents (not only typed tenants) so a file with one bad field is still checked for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ncconsole.gitops.loader import (
    REQUIRED_FIELDS,
    ingress_hosts,
    parse_wave,
    text_items,
    tls_hosts,
)
from ncconsole.gitops.model import (
    COMMON_FILE,
    ENV_DIR,
    TENANTS_DIR,
    Finding,
    Repo,
    Severity,
    TenantFile,
)
from ncconsole.gitops.naming import MAX_NAME, bucket_problem, is_dns_label, is_fqdn
from ncconsole.gitops.yamlsource import YamlDoc
from ncconsole.settings import Settings

# Rule id -> (severity, what it checks). The ids are an API: scripts filter on them.
RULES: dict[str, tuple[Severity, str]] = {
    "file-unreadable": ("error", "the file can be read as UTF-8 text"),
    "yaml-syntax": ("error", "the file is valid YAML with a single document"),
    "empty-file": ("error", "a tenant file is not empty"),
    "not-a-mapping": ("error", "a values file holds a mapping at the top level"),
    "required-field": ("error", "tenant.name, environment, wave, hostname, s3.bucket are set"),
    "name-dns1123": ("error", "tenant.name is a DNS-1123 label"),
    "name-too-long": ("error", "namespace prefix + tenant.name fits in 63 characters"),
    "file-name-mismatch": ("error", "the file is named tenant-<tenant.name>.yaml"),
    "wave-invalid": ("error", "tenant.wave is a non-negative integer (quoted or not)"),
    "environment-unknown": ("error", "values/env/<tenant.environment>.yaml exists"),
    "hostname-invalid": ("error", "tenant.hostname is a valid lowercase FQDN"),
    "nextcloud-host-mismatch": ("error", "nextcloud.host equals tenant.hostname"),
    "trusted-domain-missing": ("error", "nextcloud.trustedDomains contains tenant.hostname"),
    "ingress-host-mismatch": ("error", "every ingress host equals tenant.hostname"),
    "ingress-tls-missing": ("error", "every ingress host is covered by an ingress.tls entry"),
    "bucket-name-invalid": ("error", "tenant.s3.bucket follows the S3 bucket naming rules"),
    "duplicate-name": ("error", "tenant names are unique"),
    "duplicate-hostname": ("error", "tenant hostnames are unique"),
    "duplicate-bucket": ("error", "tenant buckets are unique"),
    "canary-missing": ("error", "wave 0 (the canary) holds at least one tenant"),
    "tenant-file-in-subfolder": ("warning", "no values file in a subfolder of values/tenants/"),
    "stray-tenant-file": ("warning", "every values/tenants/*.yaml is named tenant-<name>.yaml"),
    "s3-credentials-plaintext": ("warning", "S3 keys come from a Secret, not plaintext values"),
    "common-values-missing": ("warning", "values/common.yaml exists when tenants do"),
}


def validate(repo: Repo, settings: Settings) -> list[Finding]:
    """Every finding for the repository, each reported once, sorted by file, line and rule."""
    found: set[Finding] = set()
    found.update(_load_problems(repo))
    for entry in repo.files:
        if entry.doc.problem or not isinstance(entry.doc.data, dict):
            continue
        if entry.is_tenant_file:
            found.update(_tenant_rules(entry, repo, settings))
        else:
            found.update(_stray_file(entry))
    found.update(_duplicates(repo.tenant_files))
    found.update(_canary(repo))
    found.update(_common_values(repo))
    found.update(_s3_credentials(repo))
    return sorted(found, key=Finding.sort_key)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)


def _finding(rel: str, line: int, rule: str, tenant: str | None, message: str) -> Finding:
    return Finding(rel, line, rule, RULES[rule][0], tenant, message)


def _load_problems(repo: Repo) -> Iterator[Finding]:
    docs: list[tuple[str, YamlDoc, TenantFile | None]] = []
    if repo.common_doc is not None:
        docs.append((COMMON_FILE, repo.common_doc, None))
    docs.extend((f"{ENV_DIR}/{doc.path.name}", doc, None) for doc in repo.env_docs.values())
    docs.extend((entry.rel, entry.doc, entry) for entry in repo.files)
    for rel, doc, entry in docs:
        # The file name is the best guess at the tenant when the file cannot be parsed.
        tenant = entry.guessed_name if entry is not None else None
        problem = doc.problem
        if problem is None:
            if doc.data is not None and not isinstance(doc.data, dict):
                kind = type(doc.data).__name__
                message = f"expected a mapping of values, found a {kind}"
                yield _finding(rel, 1, "not-a-mapping", tenant, message)
        elif problem.kind == "empty":
            # An empty env or common file is a legal, empty set of overrides.
            if entry is not None and entry.is_tenant_file:
                message = f"{problem.message}; fill in the tenant values or delete it"
                yield _finding(rel, 1, "empty-file", tenant, message)
        elif problem.kind == "syntax":
            yield _finding(rel, problem.line, "yaml-syntax", tenant, problem.message)
        else:
            yield _finding(rel, problem.line, "file-unreadable", tenant, problem.message)


def _stray_file(entry: TenantFile) -> Iterator[Finding]:
    name = entry.declared_name
    if "/" in entry.rel.removeprefix(f"{TENANTS_DIR}/"):
        yield _finding(
            entry.rel,
            1,
            "tenant-file-in-subfolder",
            name,
            "the ApplicationSet's glob also matches subfolders, so Argo CD deploys this file; "
            f"move it to {TENANTS_DIR}/ as tenant-<name>.yaml or out of {TENANTS_DIR}/",
        )
    else:
        yield _finding(
            entry.rel,
            1,
            "stray-tenant-file",
            name,
            "the ApplicationSet deploys every *.yaml here, but ncconsole reads only "
            "tenant-<name>.yaml; rename it or move it out",
        )


def _tenant_rules(entry: TenantFile, repo: Repo, settings: Settings) -> Iterator[Finding]:
    doc, rel = entry.doc, entry.rel
    name = entry.declared_name

    def at(path: str, rule: str, message: str) -> Finding:
        return _finding(rel, doc.line(path), rule, name, message)

    for path in REQUIRED_FIELDS:
        value = doc.get(path)
        if value is None or value == "":
            yield at(path, "required-field", f"{path} is missing; every tenant file sets it")
        elif path != "tenant.wave" and not isinstance(value, str):
            hint = "; quote it" if isinstance(value, bool | int | float) else ""
            message = f"{path} must be a text value, found {value!r}{hint}"
            yield at(path, "required-field", message)

    if name is not None:
        if not is_dns_label(name):
            yield at(
                "tenant.name",
                "name-dns1123",
                f"tenant name '{name}' is not a DNS-1123 label "
                "(lowercase letters, digits and '-', starting and ending with a letter or digit)",
            )
        namespace = settings.namespace_for(name)
        if len(namespace) > MAX_NAME:
            yield at(
                "tenant.name",
                "name-too-long",
                f"namespace '{namespace}' is {len(namespace)} "
                f"characters; shorten the tenant name to at most "
                f"{MAX_NAME - len(settings.namespace_prefix)}",
            )
        expected = f"tenant-{name}.yaml"
        # An invalid name is reported once, above; the file name follows once it is fixed.
        if doc.path.name != expected and is_dns_label(name):
            yield at(
                "tenant.name",
                "file-name-mismatch",
                f"file name does not match tenant.name '{name}'; rename it to {expected}",
            )

    wave = doc.get("tenant.wave")
    if wave is not None and wave != "" and parse_wave(wave) is None:
        yield at(
            "tenant.wave",
            "wave-invalid",
            f"wave {wave!r} is not a non-negative integer "
            'without leading zeros (e.g. "0" for the canary, "1")',
        )

    environment = doc.get("tenant.environment")
    if isinstance(environment, str) and environment and environment not in repo.environments:
        known = ", ".join(sorted(repo.environments)) or "none"
        yield at(
            "tenant.environment",
            "environment-unknown",
            f"environment '{environment}' has no {ENV_DIR}/{environment}.yaml (known: {known})",
        )

    bucket = doc.get("tenant.s3.bucket")
    if isinstance(bucket, str) and bucket and (problem := bucket_problem(bucket)):
        yield at("tenant.s3.bucket", "bucket-name-invalid", f"bucket '{bucket}' {problem}")

    hostname = doc.get("tenant.hostname")
    if isinstance(hostname, str) and hostname:
        yield from _host_rules(doc, hostname, at)


def _host_rules(doc: YamlDoc, hostname: str, at: Any) -> Iterator[Finding]:
    if not is_fqdn(hostname):
        yield at(
            "tenant.hostname",
            "hostname-invalid",
            f"hostname '{hostname}' is not a valid lowercase fully qualified domain name",
        )
    host = doc.get("nextcloud.host")
    if host != hostname:
        shown = "is missing" if host is None else f"is '{host}'"
        yield at(
            "nextcloud.host",
            "nextcloud-host-mismatch",
            f"nextcloud.host {shown}; it must equal tenant.hostname '{hostname}'",
        )
    if hostname not in text_items(doc.get("nextcloud.trustedDomains")):
        yield at(
            "nextcloud.trustedDomains",
            "trusted-domain-missing",
            f"nextcloud.trustedDomains does not contain '{hostname}'; Nextcloud answers "
            "'untrusted domain' for it",
        )
    hosts = ingress_hosts(doc)
    for host, path in hosts:
        if host != hostname:
            yield at(
                path,
                "ingress-host-mismatch",
                f"ingress host '{host}' differs from tenant.hostname '{hostname}'",
            )
    covered = {host for host, _ in tls_hosts(doc)}
    to_cover = hosts or ([(hostname, "ingress.tls")] if doc.get("ingress.tls") is not None else [])
    for host, path in to_cover:
        if host not in covered:
            yield at(
                path,
                "ingress-tls-missing",
                f"ingress host '{host}' has no ingress.tls entry; add it to a tls[].hosts list",
            )


_UNIQUE = (
    ("tenant.name", "duplicate-name", "tenant name"),
    ("tenant.hostname", "duplicate-hostname", "hostname"),
    ("tenant.s3.bucket", "duplicate-bucket", "bucket"),
)


def _duplicates(files: list[TenantFile]) -> Iterator[Finding]:
    """One finding per later file that reuses a value, naming the file that used it first."""
    for path, rule, label in _UNIQUE:
        first: dict[str, TenantFile] = {}
        for entry in sorted(files, key=lambda f: f.rel):
            if not isinstance(entry.doc.data, dict):
                continue
            value = entry.doc.get(path)
            if not isinstance(value, str) or not value:
                continue
            if value not in first:
                first[value] = entry
                continue
            other = first[value]
            yield _finding(
                entry.rel,
                entry.doc.line(path),
                rule,
                entry.declared_name,
                f"{label} '{value}' is also used by {other.rel}:{other.doc.line(path)}",
            )


def _common_values(repo: Repo) -> Iterator[Finding]:
    if repo.common_doc is None and repo.tenant_files:
        yield _finding(
            COMMON_FILE, 0, "common-values-missing", None,
            "file not found; the ApplicationSet passes it to every tenant's Helm release, "
            "so syncs fail without it (create it, even empty)",
        )  # fmt: skip


def _canary(repo: Repo) -> Iterator[Finding]:
    files = repo.tenant_files
    if not files:
        return
    waves = [parse_wave(f.doc.get("tenant.wave")) for f in files if isinstance(f.doc.data, dict)]
    if 0 not in waves:
        unread = sum(1 for f in files if not isinstance(f.doc.data, dict))
        note = f" ({unread} tenant file(s) could not be read)" if unread else ""
        yield _finding(
            f"{TENANTS_DIR}/",
            0,
            "canary-missing",
            None,
            f"no tenant has wave 0; the canary is rolled out first, so set "
            f'tenant.wave: "0" on one tenant{note}',
        )


_S3 = "nextcloud.objectStore.s3"


def _s3_credentials(repo: Repo) -> Iterator[Finding]:
    """Helm merges common < env < tenant; warn where the merged S3 settings lack a Secret."""
    for entry in repo.tenant_files:
        if not isinstance(entry.doc.data, dict):
            continue
        environment = entry.doc.get("tenant.environment")
        env_doc = repo.env_docs.get(environment) if isinstance(environment, str) else None
        layers = [
            (COMMON_FILE, repo.common_doc),
            (f"{ENV_DIR}/{environment}.yaml", env_doc),
            (entry.rel, entry.doc),
        ]
        merged: dict[str, Any] = {}
        source: tuple[str, YamlDoc] | None = None
        for rel, doc in layers:
            if doc is None or not isinstance(doc.data, dict):
                continue
            s3 = doc.get(_S3)
            if isinstance(s3, dict):
                merged = _merge(merged, s3)
                source = (rel, doc)
        if source is None or not _s3_in_plaintext(merged):
            continue
        rel, doc = source
        tenant = entry.declared_name if rel == entry.rel else None
        yield _finding(
            rel,
            doc.line(_S3),
            "s3-credentials-plaintext",
            tenant,
            f"{_S3} is enabled without existingSecret and secretKeys.accessKey/"
            "secretKey, so the chart uses plaintext keys from the values",
        )


def _s3_in_plaintext(s3: dict[str, Any]) -> bool:
    if s3.get("enabled") is not True:
        return False
    keys = s3.get("secretKeys") if isinstance(s3.get("secretKeys"), dict) else {}
    return not (s3.get("existingSecret") and keys.get("accessKey") and keys.get("secretKey"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result
