"""`ncconsole` without a subcommand: the live console on the current kube context and repo."""

from __future__ import annotations

import sys
from typing import Any

import click

from ncconsole.errors import NcConsoleError
from ncconsole.settings import Settings, load_settings


class LiveFleetOpener:
    """Opens a live fleet for given settings; the console uses it to switch cluster (`:ctx`)
    without leaving. Holds the command line's flags so a switch keeps them."""

    def __init__(self, flags: dict[str, Any] | None = None) -> None:
        self.flags = dict(flags or {})

    def contexts(self, settings: Settings) -> list[str]:
        from ncconsole.kube.connection import kube_contexts

        return kube_contexts(settings)

    def settings_for(
        self, current: Settings, profile: str | None = None, context: str | None = None
    ) -> Settings:
        """Settings for another profile (its own context, repo, ...) or another context of
        the current profile. --read-only given on the command line holds for every switch."""
        read_only = True if self.flags.get("read_only") else None
        if profile is not None:
            # A --kubeconfig from the command line stays unless the profile names its own.
            own = current.profiles.get(profile) or {}
            kubeconfig = None if "kubeconfig" in own else self.flags.get("kubeconfig")
            return load_settings(profile=profile, read_only=read_only, kubeconfig=kubeconfig)
        return current.model_copy(update={"context": context})

    def open(self, settings: Settings) -> Any:
        """A FleetState for the settings' cluster, not started, that also reads the shared
        platform every platform.interval seconds; KubeConfigError (one line) when the context
        cannot be used. A context with an exec credential plugin connects when the fleet
        starts (in the console's worker), so the screen answers keys while the plugin runs
        and says so if it fails or hangs."""
        from ncconsole.fleet.state import FleetState
        from ncconsole.kube.connection import connect, exec_plugin
        from ncconsole.ops.platform import platform_reader

        reader = platform_reader(settings)
        if exec_plugin(settings):
            return FleetState(settings, platform_reader=reader)
        return FleetState(settings, connection=connect(settings), platform_reader=reader)


class NoTerminal(NcConsoleError):
    """The console was started without a terminal to draw on and read keys from."""


def require_terminal() -> None:
    """Refuse to start the console into a pipe or a file: it would write escape codes there
    and wait forever for keys. Scripts have subcommands."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NoTerminal(
            "the console needs a terminal; in scripts and pipes use `ncconsole status` "
            "(or another subcommand, see `ncconsole --help`)"
        )


def open_console(
    settings: Settings, flags: dict[str, Any] | None = None, platform_note: str = ""
) -> int:
    """Watch the fleet described by `settings` and show it until the user quits.
    `platform_note` replaces "not configured" for the platform components left out (the
    demo says why).

    A bad kubeconfig or context fails here, as one line on the terminal, before the screen
    is taken over; losing the API later is shown inside the console."""
    require_terminal()
    # Imported here so that scripted subcommands never load textual.
    from ncconsole.tui.app import make_app

    opener = LiveFleetOpener(flags)
    app = make_app(opener.open(settings), settings, opener=opener, platform_note=platform_note)
    app.run()
    if app.crash_guard.crashed:
        click.echo(
            f"ncconsole: the console hit an internal error; traces in {app.crash_guard.path}",
            err=True,
        )
    return app.exit_code
