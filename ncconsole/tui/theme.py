"""The console's looks: which palette the cells use (render/cells.py) and which Textual theme
goes with it. NO_COLOR (any value, https://no-color.org) means attributes only: reverse video
for errors and underline for warnings, since Textual turns colours into greys there (bold red
became dark grey on dark grey, 1.2:1). `ReadableNoColor` does the same for every other widget
(notifications, the waves and occ screens): a red text turns reverse, a yellow one underlined.
The high-contrast theme is black and white with saturated signal colours."""

from __future__ import annotations

import colorsys
import os
from functools import lru_cache

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor, monochrome_style
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


_DEFAULT = Style.from_color(RichColor.parse("default"), RichColor.parse("default"))
_ERROR = _DEFAULT + Style(bold=True, reverse=True)
_WARNING = Style(underline=True)


def _signal(color: RichColor | None) -> str:
    """ "error" for a red text colour, "warning" for a yellow or orange one, else ""."""
    if color is None or color.is_default:
        return ""
    red, green, blue = (c / 255 for c in color.get_truecolor())
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    if saturation < 0.4 or lightness < 0.2:
        return ""
    if hue < 0.04 or hue > 0.95:
        return "error"
    if 0.06 <= hue <= 0.18:
        return "warning"
    return ""


@lru_cache(1024)
def readable_style(style: Style) -> Style:
    kind = _signal(style.color)
    if kind == "error":
        return style + _ERROR
    plain = monochrome_style(style)
    return plain + _WARNING if kind == "warning" else plain


class ReadableNoColor(LineFilter):
    """NO_COLOR without losing the signal: greys like Textual's Monochrome, except that red
    text becomes bold reverse video and yellow text underlined."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, None if style is None else readable_style(style), control)
            for text, style, control in segments
        ]


def install_readable_no_color(app: App[object]) -> None:
    """Under NO_COLOR, swap Textual's colour-to-grey filter for ReadableNoColor. Textual has
    no public hook for its line filters; App.get_line_filters reads this list."""
    filters = app._filters
    for index, line_filter in enumerate(filters):
        if isinstance(line_filter, Monochrome | NoColor):
            filters[index] = ReadableNoColor()


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
