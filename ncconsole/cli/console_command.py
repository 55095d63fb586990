"""`ncconsole` without a subcommand: the live console on the current kube context and repo."""

from __future__ import annotations

from ncconsole.settings import Settings


def open_console(settings: Settings) -> None:
    """Watch the fleet described by `settings` and show it until the user quits."""
    # Imported here so that scripted subcommands never load textual or the kube client.
    from ncconsole.fleet import FleetState
    from ncconsole.tui.app import make_app

    source = FleetState(settings)
    make_app(source, settings).run()
