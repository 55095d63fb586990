"""Which occ arguments are secrets, so the audit log and the console's history never hold one.

occ takes secrets in several shapes, and each needs its own rule:

- an option named for a secret: `--database-pass X`, `--admin-pass=X`, `--clientsecret X`;
- the value of a config key that names a secret: `config:system:set mail_smtppassword
  --value X`, `config:app:set user_ldap ldap_agent_password --value=X`;
- a KEY=VALUE word whose key names one: `files_external:create ... -c password=X`;
- positional (key, value) pairs of the commands that take them:
  `ldap:set-config s01 ldapAgentPassword X`, `files_external:config 3 password X`.

`user:add` and `user:resetpassword` read the password from `OC_PASS` with
`--password-from-env`; that flag takes no value and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ncconsole.ops.audit import MASK

__all__ = ["MASK", "carries_secret", "masked_args"]

# A name that holds a secret: ldapAgentPassword, dbpassword, mail_smtppassword, secret,
# passwordsalt, objectstore's secret, a client secret, an API token, a private key.
SECRET_NAME = re.compile(
    r"(password|passwd|pass$|passphrase|secret|token|credential|apikey|api_key|privatekey|"
    r"private_key|[-_]key$|^key$)",
    re.I,
)
# Options that are flags although their names look like secrets.
_FLAGS = re.compile(r"^--?[\w-]*-from-env$|^--no-password$", re.I)
# occ commands whose positional arguments end in (key, value): the key's position among them.
KEY_VALUE_COMMANDS = {"ldap:set-config": 1, "files_external:config": 1}


def _is_secret_option(name: str) -> bool:
    return name.startswith("-") and not _FLAGS.match(name) and bool(SECRET_NAME.search(name))


def masked_args(args: Sequence[str]) -> list[str]:
    """occ arguments with every secret value replaced by ********."""
    out = list(args)
    words = [i for i, a in enumerate(args) if not a.startswith("-")]
    command = args[words[0]] if words else ""
    names_secret = any(SECRET_NAME.search(args[i]) for i in words[1:])
    hide_next = False
    for i, arg in enumerate(args):
        if hide_next:
            out[i], hide_next = MASK, False
            continue
        name, eq, value = arg.partition("=")
        if _is_secret_option(name) or (names_secret and name == "--value"):
            if eq:
                out[i] = f"{name}={MASK}"
            else:
                hide_next = True
        elif eq and value and SECRET_NAME.search(name.lstrip("-")) and not name.startswith("--"):
            out[i] = f"{name}={MASK}"  # -c password=X is "-c" then "password=X"
        elif arg.startswith("-") and eq:
            # --config=password=X: the option's value is itself KEY=VALUE
            key, eq2, _ = value.partition("=")
            if eq2 and SECRET_NAME.search(key):
                out[i] = f"{name}={key}={MASK}"
    position = KEY_VALUE_COMMANDS.get(command)
    if position is not None:
        positional = words[1:]
        for index, word_index in enumerate(positional[:-1]):
            if index >= position and SECRET_NAME.search(args[word_index]):
                out[positional[index + 1]] = MASK
    return out


def carries_secret(args: Sequence[str]) -> bool:
    """Whether some argument would be masked (such commands are never kept in history)."""
    return masked_args(args) != list(args)
