"""Silence tenants' alerts (m on the fleet or a tenant, or offered after `occ
maintenance:mode --on`): how long and why, with the matchers shown before anything is created.

The dialog only plans (ops/silences.plan_tenant_silence checks the tenant, the length and the
comment); the app creates the planned silences on a worker, audited, and reads the platform
again so the ALERTS column and the panes show them."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ncconsole.durations import BadValue, parse_duration
from ncconsole.errors import NcConsoleError
from ncconsole.ops.platform import label_mapping
from ncconsole.ops.silences import SILENCE_LENGTH, SilencePlan, plan_tenant_silence
from ncconsole.platform.alertmanager import tenant_matchers
from ncconsole.settings import Settings
from ncconsole.tui.keys import bind

DEFAULT_LENGTH = "2h"


class SilenceScreen(ModalScreen[list[SilencePlan] | None]):
    DEFAULT_CSS = """
    SilenceScreen { align: center middle; }
    SilenceScreen #silence-box {
        width: 76; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    SilenceScreen .label { margin-top: 1; color: $text-muted; }
    SilenceScreen #silence-error { color: $error; height: auto; }
    SilenceScreen #silence-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    SilenceScreen Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [bind("silence_cancel", "cancel")]

    def __init__(
        self,
        settings: Settings,
        tenants: list[str],
        author: str,
        *,
        heading: str = "",
        comment: str = "",
    ) -> None:
        super().__init__()
        self.settings = settings
        self.tenants = tenants
        self.author = author
        self.heading = heading
        self.comment = comment

    def _matchers(self) -> str:
        mapping = label_mapping(self.settings)
        try:
            return "; ".join(
                ", ".join(str(m) for m in tenant_matchers(t, mapping)) for t in self.tenants
            )
        except NcConsoleError as err:
            return str(err)

    def compose(self) -> ComposeResult:
        who = (
            f"tenant {self.tenants[0]}"
            if len(self.tenants) == 1
            else f"{len(self.tenants)} tenants ({', '.join(self.tenants)})"
        )
        title = Text(self.heading + "\n" if self.heading else "", style="bold")
        title.append(f"Silence the alerts of {who} in Alertmanager", style="bold")
        details = Text(f"matchers: {self._matchers()}\ncreated by: {self.author}")
        with Vertical(id="silence-box"):
            yield Static(title, id="silence-title")
            yield Static(details, id="silence-details")
            yield Static(
                f"for how long (30m, 2h, 1d; {SILENCE_LENGTH.describe()}):", classes="label"
            )
            yield Input(DEFAULT_LENGTH, placeholder="2h", id="silence-for", compact=True)
            yield Static("why (stored in Alertmanager and the audit trail):", classes="label")
            yield Input(self.comment, placeholder="required", id="silence-comment", compact=True)
            yield Static("", id="silence-error")
            with Horizontal(id="silence-buttons"):
                yield Button("Cancel", id="silence-cancel-button")
                yield Button("Silence", id="silence-create-button", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#silence-comment", Input).focus()

    def plans(self) -> list[SilencePlan]:
        """The silences the inputs describe; NcConsoleError or BadValue saying what is wrong."""
        length = parse_duration(self.query_one("#silence-for", Input).value, SILENCE_LENGTH)
        comment = self.query_one("#silence-comment", Input).value
        return [
            plan_tenant_silence(self.settings, tenant, length, comment, self.author)
            for tenant in self.tenants
        ]

    def _submit(self) -> None:
        try:
            plans = self.plans()
        except (NcConsoleError, BadValue) as err:
            self.query_one("#silence-error", Static).update(Text(str(err)))
            return
        self.dismiss(plans)

    @on(Input.Submitted)
    def _entered(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "silence-create-button":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
