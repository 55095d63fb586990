"""Builds small platform repositories on disk, in the layout of DOMAIN.md §1."""

from __future__ import annotations

from pathlib import Path

# Line numbers of the fields in tenant_yaml(), for assertions.
LINE = {
    "tenant.name": 2,
    "tenant.environment": 3,
    "tenant.wave": 4,
    "tenant.hostname": 5,
    "tenant.s3.bucket": 7,
    "nextcloud.host": 9,
    "nextcloud.trustedDomains": 10,
    "ingress.tls": 12,
    "ingress.hosts": 13,
}


def tenant_yaml(
    name: str,
    *,
    env: str = "prod",
    wave: str = '"1"',
    host: str | None = None,
    bucket: str | None = None,
) -> str:
    host = host or f"{name}.nextcloud.example.com"
    bucket = bucket or f"nextcloud-{name}"
    return (
        "tenant:\n"
        f"  name: {name}\n"
        f"  environment: {env}\n"
        f"  wave: {wave}\n"
        f"  hostname: {host}\n"
        "  s3:\n"
        f"    bucket: {bucket}\n"
        "nextcloud:\n"
        f"  host: {host}\n"
        f"  trustedDomains: [{host}]\n"
        "ingress:\n"
        f"  tls: [{{secretName: nextcloud-{name}-tls, hosts: [{host}]}}]\n"
        f"  hosts: [{{host: {host}, paths: [{{path: /, pathType: Prefix}}]}}]\n"
    )


GOOD_TENANTS = {
    "canary": dict(env="accept", wave='"0"'),
    "alpha": dict(wave='"1"'),
    "beta": dict(wave="1"),
    "gamma": dict(wave='"2"'),
}


def write_repo(root: Path, tenants: dict[str, str] | None = None) -> Path:
    """A repo with values/, argo/, platform/, scripts/, docs/; `tenants` maps file name -> text."""
    files = {
        "argo/applicationsets/nextcloud-tenants.yaml": "kind: ApplicationSet\n",
        "argo/projects/nextcloud-platform.yaml": "kind: AppProject\n",
        "platform/redis/values.yaml": "replicas: 1\n",
        "scripts/validate-values.sh": "#!/bin/sh\n",
        "docs/ADDING-TENANT.md": "# Adding a tenant\n",
        "values/common.yaml": "image:\n  tag: 30.0.6-apache\n",
        "values/env/accept.yaml": "replicaCount: 1\n",
        "values/env/prod.yaml": "replicaCount: 2\n",
    }
    if tenants is None:
        tenants = {f"tenant-{n}.yaml": tenant_yaml(n, **kw) for n, kw in GOOD_TENANTS.items()}
    files.update({f"values/tenants/{name}": text for name, text in tenants.items()})
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "values/tenants").mkdir(exist_ok=True)
    return root


def good_tenants(**changes: str) -> dict[str, str]:
    """The good tenant files, with some file names mapped to new text."""
    files = {f"tenant-{n}.yaml": tenant_yaml(n, **kw) for n, kw in GOOD_TENANTS.items()}
    files.update(changes)
    return files
