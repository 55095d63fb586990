"""The console's looks: which palette the cells use (render/cells.py) and which Textual theme
goes with it. NO_COLOR (any value, https://no-color.org) means attributes only: reverse video
for errors and underline for warnings, since Textual turns colours into greys there. The
high-contrast theme is black and white with saturated signal colours."""

from __future__ import annotations

import os

from textual.app import App
from textual.theme import Theme

from ncconsole.render import cells
from ncconsole.settings import Settings

HIGH_CONTRAST_THEME = Theme(
    name="ncconsole-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff66ff",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#202020",
    success="#00ff00",
    warning="#ffff00",
    error="#ff4040",
    dark=True,
)
THEMES = ("default", "high-contrast")


def no_color() -> bool:
    return os.environ.get("NO_COLOR") is not None


def apply_theme(app: App[object], name: str) -> str:
    """Use theme `name` ("default" or "high-contrast") for the cells and the widgets; returns
    the palette in use (NO_COLOR overrides the theme's colours)."""
    if name == "high-contrast":
        app.register_theme(HIGH_CONTRAST_THEME)
        app.theme = HIGH_CONTRAST_THEME.name
    else:
        app.theme = "textual-dark"
    palette = (
        cells.NO_COLOUR
        if no_color()
        else cells.PALETTES.get(
            "high-contrast" if name == "high-contrast" else "colour", cells.COLOUR
        )
    )
    cells.use_palette(palette)
    return palette.name


def initial_theme(settings: Settings) -> str:
    return settings.theme if settings.theme in THEMES else "default"
