"""Keymap problems the config file can cause, said once when the console starts.

A remapped binding that takes another binding's key (`keymap: {filter: q}`) silently hides
one of them — on the fleet screen `q` would filter and never quit. Each screen's bindings
are checked together with the app's, which are active everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.keys import _normalize_key_list


def _keys(text: str) -> set[str]:
    return {key for key in _normalize_key_list(text).split(",") if key}


def keymap_conflicts(
    keymap: Mapping[str, str],
    app_bindings: Iterable[object],
    scopes: Mapping[str, Iterable[object]],
) -> list[str]:
    """One line per key the keymap gives to two bindings of one screen (its name in
    `scopes`, app bindings included). Clashes the defaults already have are not reported."""
    app = [b for b in app_bindings if isinstance(b, Binding) and b.id]
    problems: list[str] = []
    for scope, bindings in scopes.items():
        owners: dict[str, set[str]] = {}
        for binding in [*app, *(b for b in bindings if isinstance(b, Binding) and b.id)]:
            for key in _keys(keymap.get(binding.id or "", binding.key)):
                owners.setdefault(key, set()).add(binding.id or "")
        for key, ids in sorted(owners.items()):
            remapped = sorted(i for i in ids if i in keymap)
            if len(ids) > 1 and remapped:
                others = ", ".join(sorted(ids - {remapped[0]}))
                line = (
                    f"keymap: {remapped[0]} on '{key}' takes the key of {others} on the "
                    f"{scope}; choose another key"
                )
                if line not in problems:
                    problems.append(line)
    return problems
