"""Is the tenant's TLS certificate valid, and for how long? Checked with the configured CA,
through `web.connect_to` when set (SNI and verification for the tenant's hostname)."""

from __future__ import annotations

import socket
import ssl
import time

from ncconsole.settings import WebSettings

MIN_DAYS = 14


def check_certificate(hostname: str, web: WebSettings, min_days: int = MIN_DAYS) -> tuple[str, str]:
    """("pass"|"warn"|"fail"|"skip", message)."""
    if web.scheme != "https":
        return "skip", "status.php is reached over plain HTTP (web.scheme)"
    if web.insecure:
        return "skip", "certificate checks are off (web.insecure)"
    target = web.connect_to or f"{hostname}:443"
    host, _, port = target.rpartition(":")
    context = ssl.create_default_context(cafile=str(web.ca_file) if web.ca_file else None)
    try:
        with (
            socket.create_connection(
                (host or target, int(port or 443)), timeout=web.timeout
            ) as sock,
            context.wrap_socket(sock, server_hostname=hostname) as tls,
        ):
            cert = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as err:
        return "fail", f"certificate of {hostname} not valid: {err.verify_message}"
    except (OSError, ValueError) as err:
        return "skip", f"{target} not reachable ({err.__class__.__name__}: {err})"
    expires = ssl.cert_time_to_seconds(str(cert.get("notAfter")))
    days = (expires - time.time()) / 86400
    when = time.strftime("%Y-%m-%d", time.gmtime(expires))
    if days < min_days:
        return "warn", f"certificate of {hostname} expires in {days:.0f} days ({when})"
    return "pass", f"valid until {when} ({days:.0f} days)"
