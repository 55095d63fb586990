"""Tenant actions shared by the CLI and the TUI: secrets, occ, smoke checks, audit, guard.

Nothing here prints: functions return results, raise OpsError subclasses with a one-line
message, and report progress through callbacks.
"""
