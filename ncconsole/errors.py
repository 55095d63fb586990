"""Domain errors: each carries a one-line message meant for the user, and an exit code."""


class NcConsoleError(Exception):
    """An error the user can act on. `str(err)` is the one-line message shown to them."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(NcConsoleError):
    """The configuration file or an environment variable holds a bad value."""


class RepoError(NcConsoleError):
    """The platform GitOps repository cannot be read at all."""
