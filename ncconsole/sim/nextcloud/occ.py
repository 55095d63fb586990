"""Simulated `occ` in a tenant's `nextcloud` container: pure functions over NextcloudInstance.

`run_occ` takes the argv that `kubectl exec` would run and answers like the container does:
`php occ ...` and `php /var/www/html/occ ...` run occ as the pod's user, which is root (and occ
refuses to run) unless the pod runs as uid 33; `su -s /bin/sh www-data -c "php occ ..."` runs
it as www-data through a shell, which splits the -c string as sh would. Unknown programs fail as
the container runtime (exit 127) or the shell (`sh: 1: X: not found`, 127) does. The shell
knows `read -r NAME` (one line of the exec's stdin), `export NAME` and `exec`, so a secret
can reach occ through the environment (`user:resetpassword --password-from-env`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ncconsole.sim.nextcloud import occ_output as out
from ncconsole.sim.nextcloud.instance import NextcloudInstance
from ncconsole.sim.nextcloud.occ_commands import (
    CommandInput,
    CommandSpec,
    OccFail,
    available_commands,
    state_warnings,
)

WWW_DATA_UID = 33
OCC_PATHS = ("occ", "./occ", "/var/www/html/occ")
PHP_PATHS = ("php", "/usr/local/bin/php", "/usr/bin/php")
SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash")


@dataclass(frozen=True)
class OccResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


def _result(stdout: str = "", stderr: str = "", code: int = 0) -> OccResult:
    return OccResult(stdout.encode(), stderr.encode(), code)


@dataclass
class _Process:
    """What the commands of one exec share: the environment and the unread stdin lines."""

    env: dict[str, str]
    stdin: list[str]


def run_occ(
    instance: NextcloudInstance, argv: list[str], uid: int | None = None, stdin: bytes = b""
) -> OccResult:
    """Run `argv` in the instance's nextcloud container (no shell unless argv starts one), as
    `uid` (the pod's runAsUser) or, when None, as the instance's pods run."""
    proc = _Process({}, stdin.decode(errors="replace").splitlines())
    if uid is None:
        uid = WWW_DATA_UID if instance.runs_as_www_data else 0
    if not argv:
        return _result(
            stderr="error: you must specify at least one command for the container\n", code=1
        )
    program = argv[0]
    if program in PHP_PATHS or program in SHELLS or program in ("su", "/bin/su"):
        return _run_program(instance, argv, uid, shell=False, proc=proc)
    known = _simple_program(argv, uid)
    if known is not None:
        return known
    return _result(
        stderr="OCI runtime exec failed: exec failed: unable to start container process: "
        f'exec: "{program}": executable file not found in $PATH: unknown\n',
        code=127,
    )


def _run_program(
    instance: NextcloudInstance, argv: list[str], uid: int, shell: bool, proc: _Process
) -> OccResult:
    program, args = argv[0], argv[1:]
    if program in PHP_PATHS:
        return _php(instance, args, uid, proc.env)
    if program in SHELLS:
        if len(args) >= 2 and args[0] == "-c":
            return _shell(instance, args[1], uid, proc)
        return _result(stderr=f"{program}: simulated shell only runs -c COMMAND\n", code=2)
    if program in ("su", "/bin/su"):
        return _su(instance, args, proc)
    known = _simple_program(argv, uid)
    if known is not None:
        return known
    if shell:
        return _result(stderr=f"sh: 1: {program}: not found\n", code=127)
    return _result(stderr=f'exec: "{program}": executable file not found in $PATH\n', code=127)


def _simple_program(argv: list[str], uid: int) -> OccResult | None:
    user = "www-data" if uid == WWW_DATA_UID else "root"
    match argv[0]:
        case "true":
            return _result()
        case "false":
            return _result(code=1)
        case "echo":
            return _result(" ".join(argv[1:]) + "\n")
        case "whoami":
            return _result(f"{user}\n")
        case "id":
            return _result(f"uid={uid}({user}) gid={uid}({user}) groups={uid}({user})\n")
    return None


def _shell(instance: NextcloudInstance, command: str, uid: int, proc: _Process) -> OccResult:
    """`sh -c COMMAND`: simple commands joined by &&, || or ;, with `cd`, `exit`, `read`,
    `export` and `exec`."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return _result(stderr="sh: 1: Syntax error: Unterminated quoted string\n", code=2)
    stdout, stderr, code = b"", b"", 0
    operator = ";"
    while tokens:
        end = next((i for i, t in enumerate(tokens) if t in ("&&", "||", ";")), len(tokens))
        words, next_op = tokens[:end], tokens[end] if end < len(tokens) else None
        tokens = tokens[end + 1 :]
        if any(set(w) <= set("|&<>()") for w in words):
            unsupported = next(w for w in words if set(w) <= set("|&<>()"))
            message = f"sh: 1: simulated shell: '{unsupported}' is not supported\n"
            return OccResult(stdout, stderr + message.encode(), 2)
        run = operator == ";" or (operator == "&&") == (code == 0)
        if run and words:
            if words[0] == "exit":
                code = int(words[1]) if len(words) > 1 and words[1].isdigit() else code
                break
            if words[0] == "exec" and len(words) > 1:
                words = words[1:]
            result = (
                _builtin_cd(words)
                or _builtin_env(words, proc)
                or _run_program(instance, words, uid, shell=True, proc=proc)
            )
            stdout, stderr, code = stdout + result.stdout, stderr + result.stderr, result.exit_code
        operator = next_op or ";"
    return OccResult(stdout, stderr, code)


def _builtin_cd(words: list[str]) -> OccResult | None:
    if words[0] != "cd":
        return None
    target = words[1] if len(words) > 1 else "/root"
    if target.rstrip("/") in ("", "/var/www/html", "/var/www", "/tmp", "/root", "."):
        return _result()
    return _result(stderr=f"sh: 1: cd: can't cd to {target}\n", code=2)


def _builtin_env(words: list[str], proc: _Process) -> OccResult | None:
    """`read [-r] NAME` takes a line of stdin (exit 1 at its end); `export NAME[=VALUE]`."""
    if words[0] == "read":
        names = [w for w in words[1:] if not w.startswith("-")]
        if not proc.stdin:
            return _result(code=1)
        line = proc.stdin.pop(0)
        if names:
            proc.env[names[0]] = line
        return _result()
    if words[0] == "export":
        for word in words[1:]:
            name, eq, value = word.partition("=")
            if eq:
                proc.env[name] = value
        return _result()
    return None


def _su(instance: NextcloudInstance, args: list[str], proc: _Process) -> OccResult:
    user, command, shell, i = "root", None, None, 0
    while i < len(args):
        arg = args[i]
        if arg in ("-s", "--shell", "-c", "--command") and i + 1 < len(args):
            if arg in ("-c", "--command"):
                command = args[i + 1]
            else:
                shell = args[i + 1]
            i += 2
            continue
        if not arg.startswith("-"):
            user = arg
        i += 1
    if user not in ("root", "www-data"):
        return _result(
            stderr=f"su: user {user} does not exist or the user entry does not contain all"
            " the required fields\n",
            code=1,
        )
    if user == "www-data" and shell is None:
        # www-data's login shell in the image is nologin; the chart's docs pass -s /bin/sh.
        return _result("This account is currently not available.\n", code=1)
    if command is None:
        return _result(stderr="su: simulated su needs -c COMMAND\n", code=1)
    return _shell(instance, command, WWW_DATA_UID if user == "www-data" else 0, proc)


def _php(
    instance: NextcloudInstance, args: list[str], uid: int, env: dict[str, str] | None = None
) -> OccResult:
    if not args or args[0] not in OCC_PATHS:
        script = args[0] if args else ""
        return _result(f"Could not open input file: {script}\n", code=1)
    if uid != WWW_DATA_UID:
        return _result(
            "Console has to be executed with the user that owns the file config/config.php\n"
            f"Current user id: {uid}\nOwner id of config.php: {WWW_DATA_UID}\n"
            f"Try adding 'sudo -u #{WWW_DATA_UID}' to the beginning of the command"
            " (without the single quotes)\n"
            f"If running with 'docker exec' try adding the option '-u {WWW_DATA_UID}'"
            " to the docker command (without the single quotes)\n",
            code=1,
        )
    return occ(instance, args[1:], env)


# -- occ itself ------------------------------------------------------------------------------

_GLOBAL = {"help": False, "quiet": False, "verbose": False, "version": False, "ansi": False,
           "no-ansi": False, "no-interaction": False, "no-warnings": False}  # fmt: skip
_GLOBAL_SHORT = {"h": "help", "q": "quiet", "v": "verbose", "V": "version", "n": "no-interaction"}


def _parse(spec: CommandSpec, tokens: list[str]) -> CommandInput:
    """Symfony's ArgvInput: long options with = or a following value, short options."""
    options = {**_GLOBAL, **spec.options, **({"output": True} if spec.base else {})}
    short = {**_GLOBAL_SHORT, **spec.short}
    args: list[str] = []
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            args.extend(tokens[i:])
            break
        if not token.startswith("-") or token == "-":
            args.append(token)
            continue
        if token.strip("v") == "-":  # -v, -vv, -vvv
            opts["verbose"] = True
            continue
        if token.startswith("--"):
            name, has_value, value = token[2:].partition("=")
            shown = f"--{name}"
        else:
            name, shown = short.get(token[1], ""), f"-{token[1]}"
            has_value, value = len(token) > 2, token[2:]
        if name not in options:
            raise OccFail(f'The "{shown}" option does not exist.')
        if options[name]:
            if not has_value:
                if i >= len(tokens):
                    raise OccFail(f'The "--{name}" option requires a value.')
                value, i = tokens[i], i + 1
            opts[name] = value
        elif has_value:
            raise OccFail(f'The "--{name}" option does not accept a value.')
        else:
            opts[name] = True
    return CommandInput(args, opts)


def occ(
    instance: NextcloudInstance, tokens: list[str], env: dict[str, str] | None = None
) -> OccResult:
    """`php occ <tokens>` as www-data, with the environment `env`."""
    commands = available_commands(instance)
    names = [t for t in tokens if not t.startswith("-")]
    if any(t in ("-V", "--version") for t in tokens) and not names:
        return _result(f"Nextcloud {instance.versionstring}\n")
    name = names[0] if names else "list"
    try:
        resolved = _resolve(name, list(commands))
        spec = commands[resolved]
        rest = list(tokens)
        if names:
            rest.remove(name)
        given = _parse(spec, rest)
        given.env = dict(env or {})
    except OccFail as err:
        return _result(stderr=out.error_block(str(err)), code=1)
    warnings = "" if given.opts.get("no-warnings") else state_warnings(instance, resolved)
    if given.opts.get("help"):
        return _result(
            f"Description:\n  {spec.description}\n\nUsage:\n  {resolved} [options]\n", warnings
        )
    try:
        stdout, code = spec.handler(instance, given)
    except OccFail as err:
        return _result(stderr=warnings + out.error_block(str(err)), code=1)
    if given.opts.get("quiet"):
        stdout = ""
    return _result(stdout, warnings, code)


def _resolve(name: str, names: list[str]) -> str:
    """Symfony's Application::find: exact name, else a unique abbreviation of each part."""
    if name in names:
        return name
    parts = name.split(":")
    matches = [
        n for n in names
        if len(n.split(":")) == len(parts)
        and all(full.startswith(part) for full, part in zip(n.split(":"), parts, strict=True))
    ]  # fmt: skip
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise OccFail(
            f'Command "{name}" is ambiguous.\nDid you mean one of these?\n'
            + "\n".join(f"    {m}" for m in sorted(matches))
        )
    if ":" in name:
        namespace = name.split(":")[0]
        if not any(n.startswith(f"{namespace}:") for n in names):
            raise OccFail(f'There are no commands defined in the "{namespace}" namespace.')
    message = f'Command "{name}" is not defined.'
    close = out.alternatives(name, names)
    if len(close) == 1:
        message += f"\n\nDid you mean this?\n    {close[0]}"
    elif close:
        message += "\n\nDid you mean one of these?\n" + "\n".join(f"    {c}" for c in close)
    raise OccFail(message)
