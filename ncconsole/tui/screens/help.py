"""`?`: every key that works on the screen it was opened from, read from the live bindings
(so a key remapped in the config file shows as remapped)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ncconsole.tui.keys import bind


def binding_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(keys, what it does, binding id) for every active, non-system binding of `screen`."""
    app = screen.app
    grouped: dict[tuple[int, str, str | None], tuple[list[str], Binding]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system:
            continue
        slot = grouped.setdefault((id(active.node), binding.action, binding.id), ([], binding))
        key = app.get_key_display(binding)
        if key not in slot[0]:
            slot[0].append(key)
    rows = []
    for keys, binding in grouped.values():
        what = binding.description or binding.action.replace("_", " ")
        rows.append((", ".join(keys), what, binding.id or ""))
    # The console's own (remappable) keys first, then the widgets' standard ones.
    rows.sort(key=lambda row: not row[2])
    return rows


def help_table(rows: list[tuple[str, str, str]]) -> Table:
    table = Table(box=None, expand=False, pad_edge=False)
    table.add_column("KEYS", style="bold", no_wrap=True)
    table.add_column("ACTION")
    table.add_column("ID (for keymap)", style="dim", no_wrap=True)
    for keys, what, binding_id in rows:
        table.add_row(Text(keys), Text(what), Text(binding_id))
    return table


class HelpScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [bind("back", "app.pop_screen")]
    DEFAULT_CSS = """
    HelpScreen #help-body { padding: 0 1; }
    """

    def __init__(self, for_screen: Screen[object]) -> None:
        super().__init__()
        self.rows = binding_rows(for_screen)
        self.screen_title = type(for_screen).__name__.removesuffix("Screen").lower()

    def compose(self) -> ComposeResult:
        title = Text(f"Keys on the {self.screen_title} screen", style="bold")
        note = Text(
            "Remap any key with a binding id in the config file, e.g. keymap: {filter: f}",
            style="dim",
        )
        with VerticalScroll(id="help-body"):
            yield Static(title)
            yield Static(help_table(self.rows), id="help-table")
            yield Static(note)
        yield Footer(compact=True, show_command_palette=False)
