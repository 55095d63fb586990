"""Subcommands on the GitOps repository: validate, tenants, new-tenant."""

COMMANDS: list = []
