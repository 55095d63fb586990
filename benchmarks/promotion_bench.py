"""(7) Wave promotion overhead: not measured yet."""

from __future__ import annotations

from typing import Any


def promotion_figures(settings: Any, sim: Any, tenants: int, args: Any) -> dict[str, Any]:
    return {"promotion_note": "not yet measured"}
