"""The shared services every tenant depends on, shown above the tenants: when one of them
fails, that is the cause to look at first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ncconsole.fleet.model import PlatformState
from ncconsole.render.platform import platform_line


class PlatformStrip(Static):
    DEFAULT_CSS = """
    PlatformStrip { height: auto; max-height: 2; padding: 0 1; }
    """

    _shown: tuple[str, Text] | None = None

    def show(self, platform: PlatformState, namespace: str, store: str) -> None:
        tooltip = f"shared services in {namespace}; secret store {store}"
        text = platform_line(platform)
        if (tooltip, text) != self._shown:  # an update lays out the whole screen again
            self._shown = (tooltip, text)
            self.tooltip = tooltip
            self.update(text)
