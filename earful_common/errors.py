"""The root of earful's error tree.

Every package's errors derive from `ReportedError`, so the command line catches one class and prints one line
with an exit code. It lives below every package (listeners and nlp included), which is why it is not in
`earful/`: nothing below the wiring may import that.
"""


class ReportedError(Exception):
    """An expected failure, reported to the user as one line (what and where) without a traceback."""

    exit_code = 1
