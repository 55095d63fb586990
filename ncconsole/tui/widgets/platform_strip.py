"""The shared services every tenant depends on, shown above the tenants: when one of them
fails, that is the cause to look at first."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ncconsole.fleet.model import DeploymentView, PlatformState
from ncconsole.render import cells as fmt


def _deployment(label: str, deployment: DeploymentView | None) -> Text:
    if deployment is None:
        return Text(f"? {label} not found", style=fmt.MUTED)
    ready = deployment.ready_replicas >= deployment.replicas > 0
    symbol, style = ("✔", fmt.GOOD) if ready else ("✖", fmt.BAD)
    word = "ready" if ready else "not ready"
    counts = f"{deployment.ready_replicas}/{deployment.replicas}"
    return Text(f"{symbol} {label} {counts} {word}", style)


def platform_text(platform: PlatformState, store: str) -> Text:
    text = Text("platform ", style="bold")
    text.append_text(_deployment("redis", platform.redis))
    text.append(" · ")
    text.append_text(_deployment("pgbouncer", platform.pgbouncer))
    text.append(" · ")
    if platform.secret_store_ready is None:
        text.append("? secret store unknown", style=fmt.MUTED)
    elif platform.secret_store_ready:
        text.append("✔ secret store ready", style=fmt.GOOD)
    else:
        message = f": {platform.secret_store_message}" if platform.secret_store_message else ""
        text.append(f"✖ secret store not ready{message}", style=fmt.BAD)
    return text


class PlatformStrip(Static):
    DEFAULT_CSS = """
    PlatformStrip { height: auto; max-height: 2; padding: 0 1; }
    """

    _shown: tuple[str, Text] | None = None

    def show(self, platform: PlatformState, namespace: str, store: str) -> None:
        tooltip = f"shared services in {namespace}; secret store {store}"
        text = platform_text(platform, store)
        if (tooltip, text) != self._shown:  # an update lays out the whole screen again
            self._shown = (tooltip, text)
            self.tooltip = tooltip
            self.update(text)
