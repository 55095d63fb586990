"""The simulator's certificate authority: loopback API certificate and other hostnames."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from ncconsole.sim.apiserver.tls import Tls


def test_issued_files_cover_wildcard_hostnames_and_chain_to_the_ca(tmp_path: Path) -> None:
    tls = Tls(tmp_path)
    cert_path, key_path = tls.issue_files("web", "*.nextcloud.example.com")
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert_path, key_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["*.nextcloud.example.com"]
    ca = x509.load_pem_x509_certificate(tls.ca_path.read_bytes())
    assert cert.issuer == ca.subject
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
