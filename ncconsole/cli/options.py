"""What every subcommand shares: settings flags, error handling, output format, and for
actions --read-only, confirmation and SIGTERM as Ctrl-C."""

from __future__ import annotations

import functools
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ncconsole.durations import BadValue, CountRange, DurationRange, parse_count, parse_seconds
from ncconsole.errors import NcConsoleError
from ncconsole.gitops.naming import tenant_name_problem
from ncconsole.settings import Settings, load_settings


def run_guarded(command: click.Command, argv: list[str] | None) -> int:
    """Run the click command; domain errors become one line on stderr, never a traceback."""
    try:
        # Without standalone mode, click returns (not raises) the code of a ctx.exit(N).
        result = command.main(args=argv, prog_name="ncconsole", standalone_mode=False)
    except NcConsoleError as err:
        click.echo(f"ncconsole: error: {err}", err=True)
        return err.exit_code
    except click.exceptions.Abort as err:
        # click turns Ctrl-C (and SIGTERM, see sigterm_interrupts) into Abort; say which.
        interrupted = isinstance(err.__cause__ or err.__context__, KeyboardInterrupt)
        click.echo(f"ncconsole: {'interrupted' if interrupted else 'aborted'}", err=True)
        return 130
    except click.UsageError as err:
        click.echo(f"ncconsole: error: {usage_problem(err)}", err=True)
        return err.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except KeyboardInterrupt:
        click.echo("ncconsole: interrupted", err=True)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 141
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


_NEGATIVE = re.compile(r"-\d+(\.\d+)?")


def usage_problem(err: click.UsageError) -> str:
    """A click usage error as one line naming the flag or argument, and where help is."""
    if (
        isinstance(err, click.BadParameter)
        and not isinstance(err, click.MissingParameter)
        and err.param is not None
    ):
        param = err.param
        if isinstance(param, click.Option):
            name = f"option {max(param.opts, key=len)}"
        else:
            name = (param.human_readable_name or "argument").upper()
        text = f"{name}: {err.message}"
    elif isinstance(err, click.BadParameter) and err.param_hint:  # raised by a command itself
        hint = err.param_hint if isinstance(err.param_hint, str) else " / ".join(err.param_hint)
        text = f"{hint.strip(chr(39))}: {err.message}"
    elif isinstance(err, click.NoSuchOption) and _NEGATIVE.fullmatch(err.option_name):
        # click reads `wave promote -1` as an option; say what is wrong with the number.
        text = f"{err.option_name}: a negative number is not valid here"
        if err.ctx is not None:
            for param in err.ctx.command.params:
                if isinstance(param, click.Argument) and isinstance(param.type, CountParam):
                    name = (param.human_readable_name or "argument").upper()
                    allowed = param.type.allowed
                    text = f"{name}: '{err.option_name}' is out of range: use "
                    text += f"{allowed.low:g} to {allowed.high:g}"
                    break
    else:
        text = err.format_message()
    if err.ctx is not None:
        text += f" (see `{err.ctx.command_path} --help`)"
    return text


class DurationParam(click.ParamType):
    """A duration flag (`90s`, `10m`, `1h30m`, or seconds) within a range, as float seconds.
    Every duration flag uses it, so every one is parsed and range-checked the same way."""

    name = "duration"

    def __init__(self, allowed: DurationRange) -> None:
        self.allowed = allowed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return parse_seconds(value, self.allowed)
        except BadValue as err:
            self.fail(str(err), param, ctx)


class CountParam(click.ParamType):
    """A whole-number flag or argument (a count, a wave, a port) within a range."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.allowed = CountRange(low, high)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return int(parse_count(value, self.allowed))
        except BadValue as err:
            self.fail(str(err), param, ctx)


class PathParam(click.Path):
    """A path flag that may not be empty: click reads `--workdir ''` as Path('') - the
    current directory - and the simulator then wrote its files there."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("is empty; name a path (`.` for the current directory)", param, ctx)
        return super().convert(value, param, ctx)


# Waves are numbered from 0 (the canary); a fleet has a handful.
WAVE = CountParam(0, 9999)


class TenantParam(click.ParamType):
    """A tenant name, checked here as a DNS-1123 label before any API is asked (a name with
    shell characters used to come back as a raw 422 from the API server)."""

    name = "tenant"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = tenant_name_problem(str(value))
        if problem:
            self.fail(f"'{value}' {problem}", param, ctx)
        return str(value)


TENANT = TenantParam()


def repo_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--repo",
        type=PathParam(path_type=Path, file_okay=False),
        default=None,
        help="Platform GitOps repository (default: setting 'repo', else the current directory).",
    )(func)


def cluster_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--context", default=None, help="kubeconfig context to use.")(func)
    func = click.option(
        "--kubeconfig",
        type=PathParam(path_type=Path, dir_okay=False),
        default=None,
        help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).",
    )(func)
    return func


# ctx.meta key of the root command's --profile and --read-only, which hold for every command.
ROOT_SETTINGS = "ncconsole.root_settings"


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turns the flags --repo/--context/--kubeconfig/--read-only (and the root command's
    --profile and --read-only) into a `settings` argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        overrides = {
            key: kwargs.pop(key)
            for key in ("repo", "context", "kubeconfig", "read_only")
            if key in kwargs
        }
        if overrides.get("read_only") is False:
            overrides["read_only"] = None  # a flag not given must not override the config
        context = click.get_current_context(silent=True)
        root = (context.meta.get(ROOT_SETTINGS) if context else None) or {}
        overrides["profile"] = root.get("profile")
        if root.get("read_only"):
            overrides["read_only"] = True
        settings = load_settings(**overrides)
        for warning in settings.warnings:
            warn(warning)
        kwargs["settings"] = settings
        return func(*args, **kwargs)

    return wrapper


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


__all__ = ["Settings", "cluster_options", "format_option", "repo_option", "with_settings"]


def read_only_option(func: Any) -> Any:
    return click.option(
        "--read-only", is_flag=True, default=False, help="Refuse every state-changing action."
    )(func)


def common_options(func: Any) -> Any:
    return repo_option(cluster_options(read_only_option(func)))


def interactive() -> bool:
    """Whether a person can answer a prompt (prompts are written to stderr)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirmer(yes: bool) -> Any:
    """A confirm(question) callback: --yes agrees, a terminal asks, otherwise no."""

    def confirm(question: str) -> bool:
        if yes:
            return True
        return interactive() and click.confirm(question, default=False, err=True)

    return confirm


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the action like Ctrl-C does, so it is audited as interrupted."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report_audit_problems(auditor: Any) -> None:
    """When the command ends (however it ends), warn once per audit line or Event that could
    not be recorded: the action stands, but the user must know its trail is incomplete."""

    def report() -> None:
        for problem in getattr(auditor, "problems", ()):
            warn(problem)

    click.get_current_context().call_on_close(report)


def warn(text: str) -> None:
    if text:
        click.echo(f"ncconsole: warning: {text}", err=True)
