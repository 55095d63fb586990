"""Kubernetes and S3 naming rules, shared by validation and scaffolding."""

from __future__ import annotations

import ipaddress
import re

MAX_NAME = 63  # a DNS-1123 label: namespaces, label values

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")


def is_dns_label(name: str) -> bool:
    """Lowercase letters, digits and '-', starting and ending with a letter or digit."""
    return bool(_DNS_LABEL.fullmatch(name))


def tenant_name_problem(name: str) -> str:
    """Why `name` cannot be a tenant's name ("" when it can): it becomes part of a namespace,
    an Application and label values, so it must be a DNS-1123 label."""
    if is_dns_label(name) and len(name) <= MAX_NAME:
        return ""
    return (
        "is not a tenant name: use lowercase letters, digits and '-', starting and ending "
        f"with a letter or digit, at most {MAX_NAME} characters (a DNS-1123 label)"
    )


def is_fqdn(name: str) -> bool:
    """A lowercase DNS name with at least two labels and a non-numeric top-level label."""
    labels = name.split(".")
    return (
        len(name) <= 253
        and len(labels) >= 2
        and all(len(label) <= MAX_NAME and is_dns_label(label) for label in labels)
        and not labels[-1].isdigit()
    )


def bucket_problem(bucket: str) -> str | None:
    """Why `bucket` breaks the S3 bucket naming rules, or None when it follows them."""
    if not 3 <= len(bucket) <= 63:
        return f"is {len(bucket)} characters; S3 bucket names have 3 to 63"
    if not _BUCKET.fullmatch(bucket):
        return (
            "may hold only lowercase letters, digits, dots and hyphens, "
            "and must start and end with a letter or digit"
        )
    if ".." in bucket:
        return "must not contain two adjacent dots"
    try:
        ipaddress.IPv4Address(bucket)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    if bucket.startswith("xn--"):
        return "must not start with 'xn--'"
    if bucket.endswith("-s3alias"):
        return "must not end with '-s3alias'"
    return None
