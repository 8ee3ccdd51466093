"""Error types that map to exit codes: configuration or usage problems exit 2, runtime failures exit 1."""


class ExporterError(Exception):
    """A runtime failure with a one-line, user-facing message (exit code 1)."""

    exit_code = 1


class ConfigError(ExporterError):
    """Wrong flags, environment or config file (exit code 2)."""

    exit_code = 2


class DatabaseError(ExporterError):
    """The database could not be reached or refused what we asked (exit code 1).

    `transient` errors (server down, timeouts) are retried by `serve`; the others (wrong password, missing
    database or privileges) will not fix themselves.
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class SchemaError(ExporterError):
    """The connected database lacks a LiteLLM table or column the exporter needs (exit code 1)."""
