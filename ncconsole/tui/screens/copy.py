"""Copy (`c`): the tenant's hostname, namespace, a pod name or another value to the clipboard
over the terminal (OSC 52 through Textual's App.copy_to_clipboard, which works over SSH when the
terminal allows it), with a notification saying what was copied."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ncconsole.fleet.model import TenantState
from ncconsole.tui.keys import bind


def copy_choices(tenant: TenantState, selected_pod: str | None = None) -> list[tuple[str, str]]:
    """(what, value) pairs worth copying for `tenant`; the selected pod first among pods."""
    pods = sorted((p.name for p in tenant.pods), key=lambda name: name != selected_pod)
    choices = [
        ("hostname", tenant.hostname),
        ("namespace", tenant.namespace),
        *((f"pod {'(selected)' if name == selected_pod else ''}".strip(), name) for name in pods),
        ("URL", f"https://{tenant.hostname}" if tenant.hostname else ""),
        ("application", tenant.app_name),
        ("bucket", tenant.bucket),
        ("tenant", tenant.name),
    ]
    if tenant.app is not None:
        for image in tenant.app.images[:2]:
            choices.append(("image", image))
    return [(what, value) for what, value in choices if value]


class CopyScreen(ModalScreen[tuple[str, str] | None]):
    """Dismissed with the chosen (what, value), or None."""

    DEFAULT_CSS = """
    CopyScreen { align: center middle; }
    CopyScreen OptionList { width: 90; height: auto; max-height: 22; border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("copy_back", "dismiss_none"),
    ]

    def __init__(self, tenant: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.tenant, self.choices = tenant, choices

    def compose(self) -> ComposeResult:
        options = OptionList(
            *(
                Option(f"{what:<16} {value}", id=str(i))
                for i, (what, value) in enumerate(self.choices)
            )
        )
        options.border_title = f"copy from {self.tenant} (enter)"
        yield options

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
