"""Every key of the console in one table: a binding id (what the config file's `keymap`
remaps, e.g. `keymap: {filter: f}`), its default key(s), what it is called and whether the
footer shows it. Screens build their BINDINGS from it with `bind(id, action)`; what a key
does on a screen (its action) stays with the screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated
    description: str
    show: bool = True  # in the footer


KEYS: dict[str, Key] = {
    # everywhere
    "quit": Key("q", "Quit"),
    "help": Key("question_mark", "Help"),
    "command_palette": Key("colon,ctrl+p", "Commands"),
    "back": Key("escape", "Back"),
    "cursor_down": Key("j", "Down", show=False),
    "cursor_up": Key("k", "Up", show=False),
    # tenant actions (fleet and tenant screens; upper case = the tenant's wave)
    "occ": Key("o", "occ", show=False),
    "occ_wave": Key("O", "occ wave", show=False),
    "smoke": Key("s", "Smoke", show=False),
    "smoke_wave": Key("S", "Smoke wave", show=False),
    "audit": Key("A", "Audit", show=False),
    "logs": Key("l", "Logs", show=False),
    "logs_previous_run": Key("p", "Previous logs", show=False),
    "waves": Key("w", "Waves", show=False),
    "platform": Key("P", "Platform", show=False),
    "silence": Key("m", "Silence alerts", show=False),
    "copy": Key("c", "Copy", show=False),
    # fleet screen
    "filter": Key("slash", "Filter"),
    "open": Key("enter", "Open"),
    # the order: shift+letter as k9s does; the same key again reverses
    "sort_problems": Key("H", "Problems first"),
    "sort_restarts": Key("R", "Sort by restarts", show=False),
    "sort_version": Key("V", "Sort by version", show=False),
    "sort_pods": Key("Y", "Sort by pods ready", show=False),
    "sort_env": Key("E", "Sort by environment", show=False),
    "sort_name": Key("N", "Sort by name", show=False),
    "sort_waves": Key("W", "Within/across waves", show=False),
    # tenant screen: see why, fix it
    "pod_next": Key("j,down", "Next pod", show=False),
    "pod_previous": Key("k,up", "Previous pod", show=False),
    "describe": Key("d", "Describe"),
    "yaml": Key("y", "YAML"),
    "events": Key("e", "Events", show=False),
    "restart": Key("r", "Restart"),
    "delete_pod": Key("ctrl+k", "Delete pod", show=False),
    "sync": Key("S", "Sync"),
    "terminate": Key("T", "Terminate operation", show=False),
    "hard_refresh": Key("ctrl+r", "Hard refresh", show=False),
    "history": Key("h", "History", show=False),
    "rollback": Key("R", "Rollback", show=False),
    "diff": Key("D", "Diff", show=False),
    # describe/YAML, events, history screens
    "inspect_next": Key("tab", "Next object"),
    "inspect_previous": Key("shift+tab", "Previous object", show=False),
    "inspect_describe": Key("d", "Describe"),
    "inspect_yaml": Key("y", "YAML"),
    "inspect_managed_fields": Key("m", "managedFields"),
    "inspect_search": Key("slash", "Search"),
    "inspect_next_match": Key("n", "Next match", show=False),
    "inspect_previous_match": Key("N", "Previous match", show=False),
    "inspect_reload": Key("ctrl+r", "Reload"),
    "events_warnings": Key("w", "Warnings only"),
    "events_reload": Key("ctrl+r", "Reload"),
    "history_rollback": Key("R", "Roll back to this"),
    "history_diff": Key("D", "Diff against deployed"),
    "copy_back": Key("escape", "Back"),
    # confirmations and choices
    "confirm_yes": Key("y", "Yes"),
    "confirm_no": Key("n,escape", "No"),
    "choice_back": Key("escape", "Back"),
    # occ screen
    "occ_stop": Key("ctrl+x", "Stop"),
    "occ_history_previous": Key("up", "Previous", show=False),
    "occ_history_next": Key("down", "Next", show=False),
    # smoke and audit screens
    "smoke_rerun": Key("r", "Run again"),
    "audit_reload": Key("r", "Reload"),
    # waves screen
    "wave_promote": Key("p", "Promote wave"),
    "wave_halt": Key("h", "Halt"),
    "waves_refresh": Key("r", "Refresh"),
    "waves_more": Key("plus", "More at once"),
    "waves_fewer": Key("minus", "Fewer"),
    "waves_smoke": Key("s", "Smoke again"),
    "waves_continue": Key("c", "Continue on error"),
    "wave_force": Key("F", "Force"),
    # platform screen and the silence dialog
    "platform_read_now": Key("r", "Read now"),
    "silence_expire": Key("x", "Expire silence"),
    "silence_cancel": Key("escape", "Cancel"),
    # logs screen
    "logs_follow": Key("s,space", "Pause/follow"),
    "logs_previous": Key("p", "Previous/current"),
    "logs_container": Key("C", "Container"),
    "logs_pod": Key("o", "Pod"),
    "logs_wrap": Key("w", "Wrap"),
    "logs_timestamps": Key("t", "Time stamps"),
    "logs_search": Key("slash", "Search"),
    "logs_top": Key("g", "Top", show=False),
    "logs_bottom": Key("G", "Bottom", show=False),
}


def bind(binding_id: str, action: str, description: str = "", *, priority: bool = False) -> Binding:
    """The Binding for table entry `binding_id` doing `action` on this screen; `description`
    only where the screen's word differs (the fleet's escape clears the filter); `priority`
    where the screen's key must win over the focused widget's (the tenant screen's pod
    selection over its scrolling body)."""
    key = KEYS[binding_id]
    return Binding(
        key.keys, action, description or key.description, show=key.show, id=binding_id,
        priority=priority,
    )  # fmt: skip


def binding_ids() -> set[str]:
    """Every binding id the config file's `keymap` may name."""
    return set(KEYS)
