"""Secret occ arguments never reach the audit log or the history (ops/occ_secrets.py): every
shape occ takes a secret in, for every secret-looking name."""

from __future__ import annotations

import itertools

import pytest

from ncconsole.ops.occ_secrets import MASK, carries_secret, masked_args

SECRET = "S3cr3t-v4lue"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ldap:set-config", "s01", "ldapAgentPassword", SECRET],
         ["ldap:set-config", "s01", "ldapAgentPassword", MASK]),
        (["config:system:set", "dbpassword", "--value", SECRET],
         ["config:system:set", "dbpassword", "--value", MASK]),
        (["config:system:set", "secret", f"--value={SECRET}"],
         ["config:system:set", "secret", f"--value={MASK}"]),
        (["config:system:set", "mail_smtppassword", "--value", SECRET],
         ["config:system:set", "mail_smtppassword", "--value", MASK]),
        (["config:system:set", "redis", "password", "--value", SECRET],
         ["config:system:set", "redis", "password", "--value", MASK]),
        (["config:app:set", "user_ldap", "ldap_agent_password", f"--value={SECRET}"],
         ["config:app:set", "user_ldap", "ldap_agent_password", f"--value={MASK}"]),
        (["maintenance:install", "--database-pass", SECRET, f"--admin-pass={SECRET}"],
         ["maintenance:install", "--database-pass", MASK, f"--admin-pass={MASK}"]),
        (["files_external:create", "m", "s3", "amazons3::accesskey", "-c", f"secret={SECRET}"],
         ["files_external:create", "m", "s3", "amazons3::accesskey", "-c", f"secret={MASK}"]),
        (["files_external:create", "m", "smb", "password::password", f"--config=password={SECRET}"],
         ["files_external:create", "m", "smb", "password::password", f"--config=password={MASK}"]),
        (["files_external:config", "3", "password", SECRET],
         ["files_external:config", "3", "password", MASK]),
        (["user_oidc:provider", "x", "--clientsecret", SECRET],
         ["user_oidc:provider", "x", "--clientsecret", MASK]),
        (["user:add", "--password-from-env", "alice"],
         ["user:add", "--password-from-env", "alice"]),
        (["user:resetpassword", "--password-from-env", "bob"],
         ["user:resetpassword", "--password-from-env", "bob"]),
        (["config:system:set", "loglevel", "--value=2"],
         ["config:system:set", "loglevel", "--value=2"]),
        (["ldap:set-config", "s01", "ldapHost", "ldap.example.com"],
         ["ldap:set-config", "s01", "ldapHost", "ldap.example.com"]),
        (["status", "--output=json"], ["status", "--output=json"]),
    ],
)  # fmt: skip
def test_the_shapes_occ_takes_secrets_in(args, expected):
    assert masked_args(args) == expected
    assert carries_secret(args) == (expected != args)


KEYS = [
    "ldapAgentPassword", "dbpassword", "secret", "mail_smtppassword", "passwordsalt",
    "ldap_agent_password", "apikey", "token", "client_secret", "private_key", "dbpass",
]  # fmt: skip
SHAPES = [
    lambda k: ["config:system:set", k, "--value", SECRET],
    lambda k: ["config:system:set", k, f"--value={SECRET}"],
    lambda k: ["config:app:set", "someapp", k, "--value", SECRET],
    lambda k: ["ldap:set-config", "s01", k, SECRET],
    lambda k: ["files_external:config", "7", k, SECRET],
    lambda k: ["files_external:create", "m", "x", "y", "-c", f"{k}={SECRET}"],
    lambda k: ["app:some-command", f"--{k}", SECRET],
    lambda k: ["app:some-command", f"--{k}={SECRET}"],
]


@pytest.mark.parametrize(("key", "shape"), list(itertools.product(KEYS, range(len(SHAPES)))))
def test_no_secret_survives_any_shape_with_any_secret_name(key, shape):
    masked = masked_args(SHAPES[shape](key))
    assert SECRET not in " ".join(masked), masked
