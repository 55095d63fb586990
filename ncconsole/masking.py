"""What counts as a secret when something is shown, logged or audited: one rule for names
that hold secrets, one mask, and a Secret value's size (its value is never returned)."""

from __future__ import annotations

import base64
import re
from typing import Any

MASK = "********"
# Keys and variable names whose values are secrets (db-password, s3-secret-key, API_TOKEN, ...).
SECRET_NAME = re.compile(r"(secret|password|passwd|token|access.?key|credential)", re.I)


def secret_size(encoded: Any) -> int:
    """Bytes of a Secret's base64 value."""
    try:
        return len(base64.b64decode(str(encoded), validate=False))
    except ValueError:
        return len(str(encoded))
