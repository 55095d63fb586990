"""The shared services every tenant depends on, shown above the tenants: when one of them
fails, that is the cause to look at first. The first line is what the cluster's watches say
(Redis and PgBouncer Deployments, the secret store); the second what the components' own
readings say (PgBouncer pools, Redis INFO, Alertmanager, certificates) and when they were read.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ncconsole.fleet.model import FleetSnapshot
from ncconsole.render.platform import platform_line
from ncconsole.render.platform_states import components_line


class PlatformStrip(Static):
    DEFAULT_CSS = """
    PlatformStrip { height: auto; max-height: 3; padding: 0 1; }
    """

    _shown: tuple[str, Text] | None = None

    def show(
        self,
        snapshot: FleetSnapshot,
        now: datetime,
        *,
        namespace: str,
        store: str,
        reads_platform: bool,
        note: str = "",
    ) -> None:
        tooltip = f"shared services in {namespace}; secret store {store}"
        text = platform_line(snapshot.platform)
        components = components_line(
            snapshot.platform_reading, now, reads=reads_platform, note=note
        )
        if components.plain:
            text.append("\n").append_text(components)
            tooltip += "; P: the platform screen (pools, INFO, alerts, silences, certificates)"
        if (tooltip, text) != self._shown:  # an update lays out the whole screen again
            self._shown = (tooltip, text)
            self.tooltip = tooltip
            self.update(text)
