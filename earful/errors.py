"""Errors the command line turns into clear messages and exit codes."""

from earful_common.errors import ReportedError


class EarfulError(ReportedError):
    """Base class of errors that are reported to the user without a traceback."""

    exit_code = 1


class ConfigError(EarfulError):
    """The configuration file or environment is invalid; the message names the file and the key."""

    exit_code = 2


class UsageError(EarfulError):
    """A command was given something it cannot use (e.g. a malformed query)."""

    exit_code = 2
