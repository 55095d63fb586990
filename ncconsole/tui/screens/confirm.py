"""A yes/no question before a state-changing action, or a typed word before one that skips
a safety check."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ncconsole.tui.keys import bind


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen #confirm-box {
        width: 70; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("confirm_yes", "answer(True)"),
        bind("confirm_no", "answer(False)"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="confirm-no-button")
                yield Button("Yes", id="confirm-yes-button", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#confirm-no-button", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes-button")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TypedConfirmScreen(ModalScreen[bool]):
    """Agreeing by typing a word (the wave number, or "force"), as `wave promote --force`
    asks on the command line: for actions that skip a safety check."""

    DEFAULT_CSS = """
    TypedConfirmScreen { align: center middle; }
    TypedConfirmScreen #typed-box {
        width: 70; height: auto; border: thick $error; background: $surface; padding: 1 2;
    }
    TypedConfirmScreen Input { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        bind("choice_back", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: str, accepted: tuple[str, ...]) -> None:
        super().__init__()
        self.question = question
        self.accepted = accepted

    def compose(self) -> ComposeResult:
        with Vertical(id="typed-box"):
            yield Static(self.question, id="typed-question", markup=False)
            yield Input(placeholder=" or ".join(self.accepted), id="typed-answer")

    def on_mount(self) -> None:
        self.query_one("#typed-answer", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() in self.accepted)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
