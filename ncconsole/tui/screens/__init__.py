"""The console's screens: fleet (home), tenant detail, help."""

from __future__ import annotations

from textual.screen import Screen


def is_visible(screen: Screen[object]) -> bool:
    """On top, or under a modal such as the command palette (which leaves it in view)."""
    top = screen.app.screen
    return top is screen or (top.is_modal and screen in screen.app.screen_stack[-2:])
