"""tui/keys.py is the one key table: every binding of the console comes from it, so its ids are
exactly what the config file's `keymap` may remap."""

from __future__ import annotations

from textual.binding import Binding

from ncconsole.tui.app import NcConsoleApp, binding_scopes
from ncconsole.tui.keys import KEYS, binding_ids
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.logs import ChoiceScreen, LogScreen
from ncconsole.tui.widgets.table import Table


def test_every_binding_is_the_tables_and_every_entry_is_used() -> None:
    holders = [NcConsoleApp, ConfirmScreen, ChoiceScreen, LogScreen, Table]
    bindings = [b for h in holders for b in h.BINDINGS]
    bindings += [b for scope in binding_scopes().values() for b in scope]
    used = set()
    for binding in bindings:
        assert isinstance(binding, Binding) and binding.id in KEYS, binding
        assert (binding.key, binding.show) == (KEYS[binding.id].keys, KEYS[binding.id].show)
        used.add(binding.id)
    assert used == binding_ids() == set(KEYS)
