"""What every platform reading shares: a verdict, the reason it could not be read, findings.

A reading is a plain frozen value, safe to hand across threads and to render anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """One word per component, worst first (the order sorts and picks the worst)."""

    PROBLEM = "problem"  # hurting tenants now: queued or refused connections, memory full
    UNKNOWN = "unknown"  # could not be read: never shown as healthy
    WARNING = "warning"  # near a limit, not yet hurting
    OK = "ok"
    NOT_CONFIGURED = "not configured"  # no address in the settings: not part of the check


def worst(verdicts: list[Verdict]) -> Verdict:
    """The worst verdict of several; OK when there are none."""
    order = list(Verdict)
    return min(verdicts, key=order.index, default=Verdict.OK)


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects (a direct address from the settings, or a port-forward's local
    end) and the credentials it uses there. The password is never shown."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    # What the user knows this endpoint as, for messages ("port-forward to nc-platform/redis").
    via: str = ""

    def __repr__(self) -> str:
        return f"Endpoint({self.host}:{self.port} via {self.via or 'direct'})"

    @property
    def label(self) -> str:
        return self.via or f"{self.host}:{self.port}"


def unreachable(error: BaseException | str) -> str:
    """The reason of a reading whose server did not answer usefully, on one line."""
    text = str(error).strip().splitlines()
    return f"unreachable: {text[0] if text else type(error).__name__}"
