"""A throwaway certificate authority for the simulator's HTTPS endpoints (via `trustme`).

`Tls(directory)` creates a CA at once and writes its PEM to `directory/ca.crt` so clients
(kubeconfig `certificate-authority-data`, httpx `verify=`, boto3 `verify=`) can trust it.
`server_context(...)` gives an `ssl.SSLContext` serving a certificate for the given hostnames
(default 127.0.0.1 and localhost); `issue_files(...)` writes a cert/key pair for servers that
want files (e.g. a Nextcloud web endpoint for `*.nextcloud.example.com`).
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class Tls:
    """One CA and the certificates it issues. See the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA(organization_name="ncconsole simulator")
        self.ca_path = self.directory / "ca.crt"
        self.ca_pem = self.ca.cert_pem.bytes()
        self.ca_path.write_bytes(self.ca_pem)

    @property
    def ca_data_b64(self) -> str:
        """The CA certificate as kubeconfig's `certificate-authority-data` wants it."""
        return base64.b64encode(self.ca_pem).decode()

    def server_context(self, *hostnames: str) -> ssl.SSLContext:
        """A server-side TLS context with a certificate for `hostnames` (default: loopback)."""
        cert = self.ca.issue_cert(*(hostnames or LOOPBACK_NAMES))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        return ctx

    def issue_files(self, name: str, *hostnames: str) -> tuple[Path, Path]:
        """Write `name.crt` (leaf + chain) and `name.key` for `hostnames` (wildcards allowed,
        e.g. `*.nextcloud.example.com`); returns (cert path, key path)."""
        cert = self.ca.issue_cert(*hostnames)
        cert_path = self.directory / f"{name}.crt"
        key_path = self.directory / f"{name}.key"
        cert_path.write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
        key_path.write_bytes(cert.private_key_pem.bytes())
        key_path.chmod(0o600)
        return cert_path, key_path

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts this CA."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx
