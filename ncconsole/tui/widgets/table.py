"""A DataTable that moves with j/k as well as the arrows, as k9s users expect on every list."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.widgets import DataTable

from ncconsole.tui.keys import bind


class Table(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("cursor_down", "cursor_down"),
        bind("cursor_up", "cursor_up"),
    ]
