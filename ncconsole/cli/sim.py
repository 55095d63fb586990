"""`ncconsole sim` runs a simulated platform; `ncconsole demo` opens the console on one.

`sim` writes DIR/platform (the GitOps repo), DIR/config.yaml (settings for the console:
`NCCONSOLE_CONFIG=DIR/config.yaml ncconsole ...`) and last DIR/kubeconfig, whose presence
means "ready"; it runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from ncconsole.cli.options import ROOT_SETTINGS, CountParam, PathParam
from ncconsole.errors import NcConsoleError
from ncconsole.locations import demo_workdir_parent

BUILTIN_SCENARIOS = ("demo", "default")
# What the `sim` extra installs (pyproject.toml); a plain install leaves the simulator out.
SIM_MODULES = ("aiohttp", "trustme", "moto", "flask", "flask_cors")
DEMO_START_TIMEOUT = 60.0


class SimCommandError(NcConsoleError):
    """The simulator command was given options it cannot use."""


def require_simulator() -> None:
    """One line naming the missing extra instead of an ImportError from deep in the sim."""
    missing = [name for name in SIM_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise SimCommandError(
            f"the simulator is not installed (missing: {', '.join(missing)}); install the "
            "'sim' extra: pip install 'ncconsole[sim]' (in a clone, `uv run` installs it)"
        )


def _scenario(name: str | None, tenants: int | None, waves: int | None):
    from ncconsole.sim.scenario import default_scenario, demo_scenario, load_scenario

    if name is not None and (tenants is not None or waves is not None):
        raise SimCommandError("--tenants/--waves cannot be combined with --scenario")
    if name is None or (name == "default" and not Path(name).exists()):
        return default_scenario(tenants if tenants is not None else 20, waves or 3)
    if Path(name).exists():
        return load_scenario(Path(name))
    if name == "demo":
        return demo_scenario()
    raise SimCommandError(
        f"scenario file '{name}' not found (built-in scenarios: {', '.join(BUILTIN_SCENARIOS)})"
    )


def _external_s3(endpoint: str | None, key: str | None, secret: str | None, ca: Path | None):
    from ncconsole.sim.s3 import ExternalS3

    if endpoint is None:
        if key or secret or ca:
            raise SimCommandError("--s3-access-key/--s3-secret-key need --s3-endpoint")
        return None
    if not key or not secret:
        raise SimCommandError(
            "--s3-endpoint needs --s3-access-key and --s3-secret-key "
            "(or NCCONSOLE_SIM_S3_ACCESS_KEY / NCCONSOLE_SIM_S3_SECRET_KEY)"
        )
    return ExternalS3(endpoint, key, secret, verify=str(ca) if ca else True)


def _platform_servers(env_file: Path | None):
    """Real platform servers from scripts/platform-servers.sh's platform.env, if given."""
    from ncconsole.sim.platform_load import DatabaseAccess
    from ncconsole.sim.platform_services import PlatformServers, RealServer

    if env_file is None:
        return None
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise SimCommandError(f"{env_file}: cannot read ({err.strerror})") from None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    try:
        return PlatformServers(
            pgbouncer=RealServer(
                "127.0.0.1",
                int(values["NCCONSOLE_PGBOUNCER_PORT"]),
                values["NCCONSOLE_PGBOUNCER_ADMIN_USER"],
                values["NCCONSOLE_PGBOUNCER_ADMIN_PASSWORD"],
            ),
            redis=RealServer(
                "127.0.0.1", int(values["NCCONSOLE_REDIS_PORT"]), "",
                values["NCCONSOLE_REDIS_PASSWORD"],
            ),
            alertmanager=RealServer(
                "127.0.0.1", int(values["NCCONSOLE_ALERTMANAGER_URL"].rsplit(":", 1)[1])
            ),
            database=DatabaseAccess(
                postgres_port=int(values["NCCONSOLE_POSTGRES_PORT"]),
                pgbouncer_port=int(values["NCCONSOLE_PGBOUNCER_PORT"]),
                user=values["NCCONSOLE_PGBOUNCER_CLIENT_USER"],
                password=values["NCCONSOLE_PGBOUNCER_CLIENT_PASSWORD"],
                max_client_conn=int(values["NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN"]),
                pool_size=int(values["NCCONSOLE_PGBOUNCER_POOL_SIZE"]),
            ),
        )  # fmt: skip
    except (KeyError, ValueError, IndexError) as err:
        raise SimCommandError(
            f"{env_file}: not a platform.env from scripts/platform-servers.sh (missing or bad "
            f"{err})"
        ) from None


@click.command("sim")
@click.option(
    "--workdir",
    type=PathParam(path_type=Path, file_okay=False),
    required=True,
    help="Where to write platform/, config.yaml and kubeconfig.",
)
@click.option(
    "--tenants",
    type=CountParam(1, 100_000),
    default=None,
    help="Number of tenants of the generated scenario (default 20).",
)
@click.option(
    "--waves",
    type=CountParam(1, 999),
    default=None,
    help="Waves after the canary's wave 0 (default 3).",
)
@click.option(
    "--scenario",
    "scenario_name",
    default=None,
    metavar="FILE",
    help="Scenario YAML file, or a built-in one: demo, default.",
)
@click.option(
    "--port",
    type=CountParam(0, 65535),
    default=0,
    help="Port of the Kubernetes API on 127.0.0.1 (default: a free one).",
)
@click.option("--s3-endpoint", default=None, help="Use this S3 (e.g. Ceph RGW) instead of moto.")
@click.option("--s3-access-key", envvar="NCCONSOLE_SIM_S3_ACCESS_KEY", default=None)
@click.option("--s3-secret-key", envvar="NCCONSOLE_SIM_S3_SECRET_KEY", default=None)
@click.option(
    "--parent-pid",
    type=CountParam(1, 2**31 - 1),
    default=None,
    hidden=True,
    help="Stop when this process is gone (ncconsole demo's own simulator).",
)
@click.option(
    "--platform-env",
    type=PathParam(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Put the real PgBouncer, Redis and Alertmanager of this platform.env "
    "(scripts/platform-servers.sh) behind the platform's port-forwards.",
)
@click.option(
    "--s3-ca-file",
    type=PathParam(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="CA bundle for --s3-endpoint.",
)
def sim(
    workdir: Path,
    tenants: int | None,
    waves: int | None,
    scenario_name: str | None,
    port: int,
    s3_endpoint: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_ca_file: Path | None,
    parent_pid: int | None,
    platform_env: Path | None,
) -> None:
    """Run a simulated platform (Kubernetes API, Argo CD, Nextcloud, S3) until interrupted."""
    require_simulator()
    from ncconsole.sim.simulator import Simulator

    scenario = _scenario(scenario_name, tenants, waves)
    external = _external_s3(s3_endpoint, s3_access_key, s3_secret_key, s3_ca_file)
    servers = _platform_servers(platform_env)
    workdir = workdir.expanduser().resolve()
    if (workdir / "platform").exists():
        raise SimCommandError(
            f"{workdir / 'platform'} already exists; use an empty --workdir or remove it"
        )
    stop = threading.Event()
    previous = {
        s: signal.signal(s, lambda *_: stop.set())
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    simulator = Simulator(
        scenario, workdir=workdir, port=port, s3=external, platform_servers=servers
    )
    try:
        try:
            simulator.start()
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise SimCommandError(
                    f"port {port} on 127.0.0.1 is in use; choose another --port (0: any free one)"
                ) from None
            raise SimCommandError(
                f"cannot listen on 127.0.0.1:{port or '?'}: {err.strerror}"
            ) from None
        server = simulator.server
        assert server is not None
        click.echo(
            f"ncconsole sim: {len(scenario.tenants)} tenants at {server.url}; "
            f"NCCONSOLE_CONFIG={simulator.config_path} (kubeconfig {simulator.kubeconfig}, "
            f"repo {simulator.repo})",
        )
        sys.stdout.flush()
        while not stop.wait(0.5):
            if parent_pid is not None and not _alive(parent_pid):
                break
    finally:
        simulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("demo")
@click.option(
    "--workdir",
    type=PathParam(path_type=Path, file_okay=False),
    default=None,
    help="Keep the demo platform here (default: a fresh directory, removed after).",
)
@click.option(
    "--platform-servers/--no-platform-servers",
    default=None,
    help="Run the real PgBouncer, Redis and Alertmanager (scripts/platform-servers.sh) behind "
    "the demo's platform (default: when they are installed).",
)
def demo(workdir: Path | None, platform_servers: bool | None) -> None:
    """Open the console on a built-in demo platform (12 tenants, a pending upgrade)."""
    from ncconsole.cli.console import open_console, require_terminal
    from ncconsole.cli.demo_platform import start_demo_platform, stop_demo_platform
    from ncconsole.settings import load_settings

    require_terminal()  # before starting a simulator nobody could look at
    require_simulator()
    owned = workdir is None
    if workdir is None:
        state = demo_workdir_parent()
        state.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="demo-", dir=state))
    workdir.mkdir(parents=True, exist_ok=True)
    # A terminal that closes (SIGHUP) or a kill (SIGTERM) must still stop the simulator.
    previous = {s: signal.signal(s, _exit_on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    proc: subprocess.Popen | None = None
    platform = None
    try:
        if platform_servers is not False:
            click.echo("ncconsole demo: starting PgBouncer, Redis and Alertmanager…", err=True)
        platform = start_demo_platform(workdir, platform_servers)
        extra = ["--platform-env", str(platform.env_file)] if platform.env_file else []
        log_path = workdir / "sim.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ncconsole", "sim", "--scenario", "demo",
                 "--workdir", str(workdir), "--parent-pid", str(os.getpid()), *extra],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_ready(proc, workdir / "kubeconfig", log_path)
        os.environ["NCCONSOLE_CONFIG"] = str(workdir / "config.yaml")
        root = click.get_current_context().meta.get(ROOT_SETTINGS) or {}
        read_only = root.get("read_only")
        code = open_console(
            load_settings(read_only=read_only), {"read_only": bool(read_only)}, platform.note
        )
    finally:
        if proc is not None:
            _stop(proc)
        if platform is not None:
            stop_demo_platform(platform)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
    if code:
        raise click.exceptions.Exit(code)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_ready(proc: subprocess.Popen, kubeconfig: Path, log_path: Path) -> None:
    deadline = time.monotonic() + DEMO_START_TIMEOUT
    while not kubeconfig.exists():
        if proc.poll() is not None:
            lines = log_path.read_text(errors="replace").strip().splitlines()
            why = lines[-1] if lines else f"exit code {proc.returncode}"
            raise SimCommandError(f"the demo simulator stopped while starting: {why}")
        if time.monotonic() > deadline:
            raise SimCommandError(
                f"the demo simulator did not get ready in {DEMO_START_TIMEOUT:.0f}s "
                f"(see {log_path})"
            )
        time.sleep(0.1)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


COMMANDS = [sim, demo]
