"""A DataTable that moves with j/k as well as the arrows, as k9s users expect on every list."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class Table(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="cursor_down", show=False),
        Binding("k", "cursor_up", "Up", id="cursor_up", show=False),
    ]
