"""The command palette (`:` or ctrl+p): jump to a tenant, filter the fleet, help, switch
cluster (`:ctx`, as in k9s: each profile of the config file, then the kubeconfig's contexts).

Tenant actions (occ, smoke checks, audit, silencing a tenant whose alerts fire) are here too,
and the platform screen; wave promotion adds its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ncconsole.fleet.model import Health

if TYPE_CHECKING:
    from ncconsole.tui.app import NcConsoleApp


@dataclass(frozen=True, slots=True)
class Command:
    title: str
    help: str
    run: Callable[[], object]


def fleet_commands(app: NcConsoleApp) -> Iterator[Command]:
    """Every command the palette offers right now."""
    yield Command(
        "Fleet: show all tenants", "Back to the fleet, no filter", partial(app.show_fleet, "")
    )
    for health in Health:
        yield Command(
            f"Fleet: only {health.value} tenants",
            f"Filter the fleet to tenants whose health is {health.value}",
            partial(app.show_fleet, health.value),
        )
    yield from cluster_commands(app)
    yield from tenant_commands(app)
    for theme in ("default", "high-contrast"):
        if theme != app.theme_name:
            yield Command(
                f"Theme: {theme}", f"Show the console in the {theme} theme",
                partial(app.switch_theme, theme),
            )  # fmt: skip
    yield Command("Help: keys", "List every key binding of this screen", app.action_help)
    yield Command("Audit: show the trail", "Actions done from this machine", app.action_audit)
    yield Command(
        "Waves: show and promote", "Waves with their counts; promote one, canary first",
        app.action_waves,
    )  # fmt: skip
    yield Command(
        "Platform: PgBouncer, Redis, alerts, silences, certificates",
        "The shared components as last read; expire a silence, read again", app.action_platform,
    )  # fmt: skip
    snapshot = app.snapshot
    if snapshot is not None:
        for wave in snapshot.waves():
            first = next((t.name for t in snapshot.tenants if t.wave == wave), None)
            if wave is None or first is None:
                continue
            yield Command(
                f"Smoke: wave {wave}", f"Smoke-check every tenant of wave {wave}",
                partial(app.action_smoke, True, first),
            )  # fmt: skip
            yield Command(
                f"occ: wave {wave}", f"Run occ on every tenant of wave {wave}",
                partial(app.action_occ, True, first),
            )  # fmt: skip
        if not app.settings.read_only:
            for tenant in snapshot.tenants:
                firing = tenant.platform.firing
                if firing:  # the tenants someone may want to silence now
                    yield Command(
                        f"Silence: alerts of {tenant.name}",
                        f"{len(firing)} firing ({', '.join(a.name for a in firing[:3])}); "
                        "silence them in Alertmanager",
                        partial(app.action_silence, tenant.name),
                    )
        for tenant in sorted(snapshot.tenants, key=lambda tenant: tenant.name):
            wave = "no wave" if tenant.wave is None else f"wave {tenant.wave}"
            yield Command(
                f"Tenant: {tenant.name}",
                f"Open the detail of {tenant.name} ({wave}, {tenant.health.value})",
                partial(app.open_tenant, tenant.name),
            )


# (title, what it does, TenantScreen action): the tenant screen's keys, by name.
TENANT_ACTIONS = (
    ("Logs", "the Nextcloud pods' logs, interleaved", "logs"),
    ("Previous logs", "what the crashed runs wrote", "previous_logs"),
    ("Describe", "describe the selected pod (tab: Deployment, Application, Secret)",
     "inspect('describe')"),
    ("YAML", "YAML of the selected pod (tab: Deployment, Application, Secret)",
     "inspect('yaml')"),
    ("Events", "every Event of the tenant, newest first", "events"),
    ("Restart", "rollout restart of its Deployment, followed until Ready", "restart"),
    ("Delete pod", "delete the selected pod; its replacement is followed", "delete_pod"),
    ("Sync", "sync its Application like a promotion", "sync"),
    ("Terminate operation", "stop Argo CD's running operation", "terminate"),
    ("Hard refresh", "Argo CD compares with Git now", "hard_refresh"),
    ("History", "the Application's sync history", "history"),
    ("Rollback", "choose a history entry to go back to", "rollback"),
    ("Diff", "what a sync would change in its values", "diff"),
    ("Copy", "hostname, namespace, a pod name, ... to the clipboard", "copy"),
)  # fmt: skip


def tenant_commands(app: NcConsoleApp) -> Iterator[Command]:
    """The tenant screen's actions for the tenant shown (or under the fleet cursor)."""
    tenant = app.selected_tenant()
    if tenant is None:
        return
    for title, what, action in TENANT_ACTIONS:
        yield Command(
            f"{title}: {tenant}", f"{what} ({tenant})", partial(app.tenant_action, tenant, action)
        )


def cluster_commands(app: NcConsoleApp) -> Iterator[Command]:
    """`ctx: ...`: every profile, then every kube context no profile names."""
    if app.opener is None:
        return
    settings = app.settings
    named = set()
    for name, values in sorted(settings.profiles.items()):
        context = values.get("context")
        named.add(context)
        facts = [f"context {context}" if context else "the current context"]
        if values.get("production"):
            facts.append("PROD")
        if values.get("read_only"):
            facts.append("read-only")
        current = " (current)" if name == settings.profile else ""
        yield Command(
            f"ctx: profile {name}{current}",
            f"Switch the console to profile {name}: {', '.join(facts)}",
            partial(app.switch_cluster, name, None),
        )
    for context in app.opener.contexts(settings):
        if context in named:
            continue
        current = " (current)" if context == settings.context and not settings.profile else ""
        yield Command(
            f"ctx: context {context}{current}",
            f"Switch the console to kube context {context} (same repo and settings)",
            partial(app.switch_cluster, None, context),
        )


class FleetCommands(Provider):
    if TYPE_CHECKING:  # the console's own app

        @property
        def app(self) -> NcConsoleApp: ...

    def _commands(self) -> Iterator[Command]:
        return fleet_commands(self.app)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    command.run,
                    text=command.title,
                    help=command.help,
                )
