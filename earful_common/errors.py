"""The root of earful's error tree, and the exit code of each kind of failure.

Every error a user can cause (bad input, bad configuration, a missing record, a server that does not answer)
derives from `ReportedError`, so the command line catches one class and prints one line with the error's exit
code. It lives below every package (listeners and nlp included), which is why it is not in `earful/`: nothing
below the wiring may import that.
"""

# Exit codes of the `earful` command (README "Exit codes").
EXIT_FAILURE = 1  # something failed or was refused; the line says what and where
EXIT_USAGE = 2  # a command or the configuration asked for something that cannot be (the user fixes the input)
EXIT_SOURCES_FAILED = 3  # `earful run`: every source failed


class ReportedError(Exception):
    """An expected failure, reported to the user as one line (what and where) without a traceback."""

    exit_code = EXIT_FAILURE


class UsageError(ReportedError):
    """A command was given something it cannot use (a malformed query, contradictory options)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration file or environment is invalid; the message names the file and the key."""


class NotFound(ReportedError):
    """What a command names (a record, an alert) does not exist; exit code 1, like other failures."""
