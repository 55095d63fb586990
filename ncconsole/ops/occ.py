"""Run Nextcloud's `occ` in a tenant's pod, for one tenant (streaming) or many (bounded pool).

The command is always an argv list. With `occ.form: su` (the chart's documented way) it is
`su -s /bin/sh www-data -c <shlex.join(php occ ARGS)>`: the only shell string is built with
shlex.join, which quotes every user word; with `direct` it is `php /var/www/html/occ ARGS`.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ncconsole.errors import NcConsoleError
from ncconsole.kube.connection import ApiStatusError, KubeConnection
from ncconsole.kube.exec import exec_in_pod, pick_ready_pod
from ncconsole.ops.audit import Auditor
from ncconsole.ops.errors import AccessDenied, PodNotReady
from ncconsole.ops.guard import (
    check_occ,
    exec_permissions,
    forbidden_message,
    reads_secret,
    require_access,
)
from ncconsole.ops.occ_secrets import MASK, masked_args
from ncconsole.settings import Settings

OCC_PATH = "/var/www/html/occ"
# (stream "stdout"/"stderr", text) as it arrives.
OutputCallback = Callable[[str, str], None]


def occ_argv(settings: Settings, args: Sequence[str]) -> list[str]:
    """The exec argv that runs `occ ARGS` as www-data in the configured form."""
    php = ["php", OCC_PATH, *args]
    if settings.occ.form == "su":
        return ["su", "-s", "/bin/sh", "www-data", "-c", shlex.join(php)]
    return php


_KEY_LINE = re.compile(r"^(\s*(?:- )?[\w.-]+\s*[:=]>?\s*)\S")


def mask_output(text: str) -> str:
    """occ output with every value hidden: `  key: ********` keeps the shape of a section,
    any other line becomes ********. For commands that print secrets (guard.reads_secret)."""
    lines = []
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match:
            lines.append(f"{match.group(1)}{MASK}")
        elif line.strip():
            lines.append(MASK)
        else:
            lines.append(line)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


@dataclass
class OccRun:
    tenant: str
    namespace: str
    args: tuple[str, ...] = field(repr=False)  # may hold secret_args: never shown
    pod: str = ""
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    timed_out: bool = False  # abandoned: no answer in time, or stopped by the user
    stopped: bool = False
    error: str = ""  # why it did not run (no Ready pod, forbidden, ...)
    shown: tuple[str, ...] = ()  # the arguments as the audit log shows them (secrets masked)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error

    @property
    def first_line(self) -> str:
        for text in (self.error, self.stdout, self.stderr):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()
        return "timed out" if self.timed_out else ""


# Exit codes of a process killed with its container (pod deleted, restarted, out of memory).
KILLED_CODES = {137: "SIGKILL", 143: "SIGTERM"}


def end_problem(run: OccRun) -> str:
    """Why a command that started did not end normally ("" when it did, or never started)."""
    if run.exit_code in KILLED_CODES:
        return (
            f"killed by {KILLED_CODES[run.exit_code]} (exit {run.exit_code}): pod {run.pod} was"
            " deleted or restarted, or ran out of memory"
        )
    if run.exit_code is None and run.pod and not run.timed_out and not run.error:
        return f"the connection to pod {run.pod} ended without an exit code"
    return ""


def run_occ(
    conn: KubeConnection,
    settings: Settings,
    tenant: str,
    args: Sequence[str],
    *,
    auditor: Auditor | None,
    confirmed: bool = False,
    on_output: OutputCallback | None = None,
    timeout: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    secret_args: Sequence[str] = (),
) -> OccRun:
    """Run `occ ARGS` in a Ready pod of the tenant; the run carries occ's exit code.
    `secret_args` are appended to ARGS for occ and appear nowhere else (audit: ********).

    Raises ReadOnlyRefused / ConfirmationRequired (checked first), AccessDenied, PodNotReady.
    Every run is audited; state-changing ones also leave an Event in the namespace."""
    shown = [*masked_args(args), *(MASK for _ in secret_args)]
    mutating = check_occ(settings, shown, confirmed=confirmed)
    namespace = settings.namespace_for(tenant)
    run = OccRun(tenant, namespace, (*args, *secret_args), shown=tuple(shown))
    secret = reads_secret(args)
    # A secret is never streamed: the whole output is masked before anyone sees it.
    stream = None if secret else on_output
    _audited(conn, settings, run, auditor, stream, timeout, should_stop, mutating, secret)
    if secret and on_output is not None:
        for channel, text in (("stdout", run.stdout), ("stderr", run.stderr)):
            if text:
                on_output(channel, text)
    return run


def _audited(
    conn: KubeConnection,
    settings: Settings,
    run: OccRun,
    auditor: Auditor | None,
    on_output: OutputCallback | None,
    timeout: float | None,
    should_stop: Callable[[], bool] | None,
    mutating: bool,
    secret: bool,
) -> OccRun:
    namespace = run.namespace
    if auditor is None:
        return _run(conn, settings, run, on_output, timeout, should_stop, secret)
    with auditor.action(
        "occ",
        namespace,
        {"occ": list(run.shown), "mutating": mutating},
        namespace=namespace if mutating else None,
        reason="NcconsoleOcc",
        mutating=mutating,
    ) as act:
        _run(conn, settings, run, on_output, timeout, should_stop, secret)
        act.target = f"{namespace}/{run.pod}"
        act.exit_code = run.exit_code
        if run.stopped:
            act.result, act.message = "interrupted", "stopped by the user"
        elif run.timed_out:
            limit = timeout or settings.occ.timeout
            act.result, act.message = "timeout", f"no answer within {limit:g} s"
        elif run.exit_code != 0:
            act.result, act.message = "failed", (end_problem(run) or run.first_line)[:200]
    return run


def _run(
    conn: KubeConnection,
    settings: Settings,
    run: OccRun,
    on_output: OutputCallback | None,
    timeout: float | None,
    should_stop: Callable[[], bool] | None,
    secret: bool = False,
) -> OccRun:
    container = settings.occ.container
    require_access(conn, *exec_permissions(run.namespace))
    pod, why = pick_ready_pod(conn, run.namespace, container)
    if pod is None:
        raise PodNotReady(f"tenant {run.tenant}: {why}; occ needs a Ready pod")
    run.pod = pod
    try:
        result = exec_in_pod(
            conn,
            run.namespace,
            pod,
            container,
            occ_argv(settings, run.args),
            timeout=timeout or settings.occ.timeout,
            on_stdout=(lambda text: on_output("stdout", text)) if on_output else None,
            on_stderr=(lambda text: on_output("stderr", text)) if on_output else None,
            should_stop=should_stop,
        )
    except ApiStatusError as err:
        if err.status == 403:  # both verbs allowed by the review, refused anyway
            raise AccessDenied(
                forbidden_message("get and create", "pods", run.namespace, subresource="exec")
            ) from None
        raise
    run.exit_code, run.stdout, run.stderr = result.exit_code, result.stdout, result.stderr
    if result.failure:  # the command never ran in the container: say what the server said
        run.error = f"pod {pod}: {result.failure}"
    if secret:
        run.stdout = mask_output(run.stdout)
    run.duration, run.timed_out = result.duration, result.timed_out
    run.stopped = result.timed_out and should_stop is not None and should_stop()
    return run


def set_user_password(
    conn: KubeConnection, settings: Settings, tenant: str, user: str, password: str
) -> OccRun:
    """`occ user:resetpassword --password-from-env USER` in a Ready pod. The password goes
    through the exec's stdin into OC_PASS (`read -r`), never into the argv, which the API
    server logs with the exec request; the run's args name the command only."""
    namespace = settings.namespace_for(tenant)
    php = ["php", OCC_PATH, "user:resetpassword", "--password-from-env", user]
    script = f"read -r OC_PASS && export OC_PASS && exec {shlex.join(php)}"
    argv = (
        ["su", "-s", "/bin/sh", "www-data", "-c", script]
        if settings.occ.form == "su"
        else ["sh", "-c", script]
    )
    run = OccRun(tenant, namespace, tuple(php[2:]))
    require_access(conn, *exec_permissions(namespace))
    pod, why = pick_ready_pod(conn, namespace, settings.occ.container)
    if pod is None:
        raise PodNotReady(f"tenant {tenant}: {why}; setting the password in Nextcloud needs one")
    run.pod = pod
    result = exec_in_pod(
        conn, namespace, pod, settings.occ.container, argv,
        timeout=settings.occ.timeout, stdin=password + "\n",
    )  # fmt: skip
    run.exit_code, run.stdout, run.stderr = result.exit_code, result.stdout, result.stderr
    run.duration, run.timed_out = result.duration, result.timed_out
    return run


def run_occ_fleet(
    conn: KubeConnection,
    settings: Settings,
    tenants: Sequence[str],
    args: Sequence[str],
    *,
    auditor: Auditor | None,
    confirmed: bool = False,
    concurrency: int | None = None,
    on_result: Callable[[OccRun], None] | None = None,
    timeout: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    secret_args: Sequence[str] = (),
) -> list[OccRun]:
    """`occ ARGS` on every tenant, at most `concurrency` at a time; results in tenant order.
    A tenant that cannot run it (no Ready pod, forbidden) gets a run with `error` set."""
    shown = [*args, *(MASK for _ in secret_args)]
    check_occ(settings, shown, confirmed=confirmed)  # refuse before touching any tenant

    interrupted = threading.Event()

    def stopping() -> bool:
        return interrupted.is_set() or (should_stop is not None and should_stop())

    def one(tenant: str) -> OccRun:
        if stopping():
            run = OccRun(tenant, settings.namespace_for(tenant), tuple(args), error="not started")
        else:
            try:
                run = run_occ(
                    conn, settings, tenant, args, auditor=auditor, confirmed=confirmed,
                    timeout=timeout, should_stop=stopping, secret_args=secret_args,
                )  # fmt: skip
            except NcConsoleError as err:
                run = OccRun(tenant, settings.namespace_for(tenant), tuple(args), error=str(err))
        if on_result is not None:
            on_result(run)
        return run

    workers = max(1, concurrency or settings.occ.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="occ") as pool:
        try:
            return list(pool.map(one, tenants))
        except KeyboardInterrupt:
            # Running commands are abandoned (audited as interrupted), queued ones not started.
            interrupted.set()
            raise
