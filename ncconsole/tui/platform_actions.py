"""The console's actions on the shared platform, mixed into the app: open the platform screen,
read the platform again now, silence tenants' alerts (the dialog shows the matchers first),
expire a silence. Each action runs in a thread worker through ops/silences (audited, refused in
read-only mode) and ends in one notification; the platform is then read again, so the ALERTS
column, the tenant's alerts pane and the silences list show the result within a second."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from ncconsole.errors import NcConsoleError
from ncconsole.ops.silences import (
    SilencePlan,
    create_tenant_silence,
    expire_silence,
    silence_author,
)
from ncconsole.platform.alertmanager import Silence
from ncconsole.tui.screens.confirm import ConfirmScreen
from ncconsole.tui.screens.platform import PlatformScreen
from ncconsole.tui.screens.silence import SilenceScreen

if TYPE_CHECKING:
    from ncconsole.settings import Settings
    from ncconsole.tui.ops_session import OpsSession


class PlatformActions:
    """Needs the app's `source`, `settings`, `ops`, `selected_tenant()` and notify/push."""

    source: Any
    settings: Settings
    ops: OpsSession
    # Said instead of "not configured" for components this setup leaves out (the demo).
    platform_note: str = ""

    @property
    def reads_platform(self) -> bool:
        """Whether the fleet source reads the shared platform (the live fleet does)."""
        return bool(getattr(self.source, "reads_platform", False))

    def read_platform_now(self) -> None:
        read_now = getattr(self.source, "read_platform_now", None)
        if read_now is not None:
            read_now()

    def action_platform(self) -> None:
        if not isinstance(self.screen, PlatformScreen):  # type: ignore[attr-defined]
            self.push_screen(PlatformScreen())  # type: ignore[attr-defined]

    # --- silences ---------------------------------------------------------------------

    def action_silence(self, tenant: str | None = None) -> None:
        """Silence the alerts of the tenant under the cursor (or shown)."""
        tenant = tenant or self.selected_tenant()  # type: ignore[attr-defined]
        if tenant is None:
            self.notify("put the cursor on a tenant first", severity="warning")  # type: ignore[attr-defined]
            return
        self.offer_silence([tenant])

    def offer_silence(self, tenants: list[str], *, heading: str = "", comment: str = "") -> None:
        """The silence dialog for `tenants`; what it plans is created on a worker."""
        if self.settings.read_only:
            self.notify(  # type: ignore[attr-defined]
                "read-only: silences cannot be created", severity="warning"
            )
            return
        if not self.settings.platform.alertmanager.configured:
            self.notify(  # type: ignore[attr-defined]
                "Alertmanager is not configured: set platform.alertmanager.url, or .service "
                "(and .namespace) for a port-forward",
                severity="warning",
                timeout=10,
            )
            return
        try:
            author = silence_author(self.ops.cluster().auditor)
        except NcConsoleError as err:
            self.notify(f"cannot silence: {err}", severity="error")  # type: ignore[attr-defined]
            return

        def planned(plans: list[SilencePlan] | None) -> None:
            if plans:
                self._create_silences(plans)

        screen = SilenceScreen(self.settings, tenants, author, heading=heading, comment=comment)
        self.push_screen(screen, planned)  # type: ignore[attr-defined]

    @work(thread=True, group="silences", exit_on_error=False)
    def _create_silences(self, plans: list[SilencePlan]) -> None:
        app: Any = self
        for plan in plans:
            try:
                session = self.ops.cluster()
                silence_id = create_tenant_silence(
                    self.settings, session.conn, plan, auditor=session.auditor
                )
            except NcConsoleError as err:
                app.call_from_thread(
                    app.notify, f"silence for {plan.tenant} not created: {err}",
                    severity="error", timeout=15,
                )  # fmt: skip
                continue
            app.call_from_thread(
                app.notify,
                f"silenced tenant {plan.tenant} until {plan.ends:%H:%M} UTC "
                f"({plan.matchers_text}); silence {silence_id[:8]}",
                title="Alertmanager",
                timeout=8,
            )
        self.read_platform_now()

    def expire_silence(self, silence: Silence) -> None:
        """Ask, then end `silence` now (its alerts notify again)."""
        question = (
            f"Expire silence {silence.id} ({silence.matchers_text}"
            f"{', tenant ' + silence.tenant if silence.tenant else ''}) now? Its alerts "
            "notify again."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._expire(silence.id)

        self.push_screen(ConfirmScreen(question), answered)  # type: ignore[attr-defined]

    @work(thread=True, group="silences", exit_on_error=False)
    def _expire(self, silence_id: str) -> None:
        app: Any = self
        try:
            session = self.ops.cluster()
            expired = expire_silence(
                self.settings, session.conn, silence_id, auditor=session.auditor
            )
        except NcConsoleError as err:
            app.call_from_thread(app.notify, f"not expired: {err}", severity="error", timeout=15)
            return
        app.call_from_thread(
            app.notify,
            f"expired silence {silence_id[:8]} ({expired.matchers_text})",
            title="Alertmanager",
        )
        self.read_platform_now()
