"""`ncconsole` without a subcommand: the live console on the current kube context and repo."""

from __future__ import annotations

from ncconsole.settings import Settings


def open_console(settings: Settings) -> None:
    """Watch the fleet described by `settings` and show it until the user quits.

    A bad kubeconfig or context fails here, as one line on the terminal, before the screen
    is taken over; losing the API later is shown inside the console."""
    # Imported here so that scripted subcommands never load textual.
    from ncconsole.fleet.state import FleetState
    from ncconsole.kube.connection import connect
    from ncconsole.tui.app import make_app

    source = FleetState(settings, connection=connect(settings))
    make_app(source, settings).run()
