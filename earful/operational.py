"""Operational failures as one line: the data folder checked before a command, errors of the parts below (disk,
records database, index) turned into a message that says what failed and where, and earful's own log warnings
printed one line each.

A bug still shows its traceback: only the failures a person running earful can act on are translated.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from earful_common.errors import ReportedError

if TYPE_CHECKING:
    from earful.settings import Settings

MIN_FREE_BYTES = 1 << 20  # below this a batch cannot even write its records: refuse before starting


class OperationalFailure(ReportedError):
    """The disk, the records database or the index failed (exit code 1)."""


def _uses_data_folder(settings: Settings) -> bool:
    return settings.index.url is None or settings.records.url is None


def check_data_folder(settings: Settings, *, create: bool) -> None:
    """Raise OperationalFailure (one line) if the data folder cannot serve the command.

    `create`: the command collects (`earful run`) and may create the folder; a command that only reads needs an
    existing one. Both need it writable: the embedded index server and SQLite write their files there even to read.
    """
    if not _uses_data_folder(settings):
        return
    folder = Path(settings.data_dir)
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), Path("/"))
    if existing.is_dir() and shutil.disk_usage(existing).free < MIN_FREE_BYTES:
        free = shutil.disk_usage(existing).free
        raise OperationalFailure(f"data folder {folder}: its disk is full ({free // 1024} KiB free); free some space")
    if not folder.exists():
        if not create:
            raise OperationalFailure(
                f"data folder {folder} does not exist: nothing was collected there yet "
                f"(run `earful run` first, or set data_dir)"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperationalFailure(f"data folder {folder}: cannot create it ({_reason(exc)})") from None
    if not folder.is_dir():
        raise OperationalFailure(f"data folder {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OperationalFailure(
            f"data folder {folder} is read-only: earful writes its index server's and records "
            f"database's files there, also to read; make it writable or set data_dir"
        )


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def first_line(text: str, limit: int = 200) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line[:limit]


def as_reported(exc: BaseException) -> ReportedError | None:
    """The one-line error for an operational failure anywhere in `exc`'s chain, or None (a bug: let it show)."""
    for link in _chain(exc):
        if isinstance(link, ReportedError):
            return link
    for link in _chain(exc):
        found = _disk(link) or _records(link) or _index(link)
        if found is not None:
            return found
    return None


def _disk(exc: BaseException) -> OperationalFailure | None:
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OperationalFailure(f"{where}no space left on the device; free some space and run again")
    if exc.errno == errno.EROFS:
        return OperationalFailure(f"{where}read-only file system")
    if exc.errno in (errno.EACCES, errno.EPERM) and exc.filename:
        return OperationalFailure(f"{where}permission denied")
    return None


def _records(exc: BaseException) -> OperationalFailure | None:
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return None
    reason = first_line(str(exc.orig))
    lowered = reason.lower()
    if "disk is full" in lowered or "disk full" in lowered:
        return OperationalFailure(f"records database: no space left on the device ({reason})")
    if "readonly" in lowered or "read-only" in lowered:
        return OperationalFailure(f"records database: cannot write ({reason})")
    if exc.connection_invalidated or "connect" in lowered or "unable to open" in lowered:
        return OperationalFailure(f"records database unreachable: {reason}")
    return None


def _index(exc: BaseException) -> OperationalFailure | None:
    try:
        from elastic_transport import ConnectionError as TransportConnectionError
        from elastic_transport import ConnectionTimeout
        from elasticsearch import ApiError
    except ModuleNotFoundError:
        return None
    if isinstance(exc, ConnectionTimeout):
        return OperationalFailure(f"index{_node(exc)}: no answer in time ({first_line(exc.message)})")
    if isinstance(exc, TransportConnectionError):
        return OperationalFailure(f"index{_node(exc)} unreachable: {index_reason(exc)}")
    if isinstance(exc, ApiError) and exc.status_code in (401, 403):
        return OperationalFailure(
            f"index refused the credentials (HTTP {exc.status_code}); check index.username / password / api_key"
        )
    return None


def _node(exc: BaseException) -> str:
    """ " host:port" of the node a transport error names (urllib3 puts it in the message), or ""."""
    import re

    found = re.search(r"host='([^']+)', port=(\d+)", str(getattr(exc, "message", exc)))
    return f" {found.group(1)}:{found.group(2)}" if found else ""


def index_reason(exc: BaseException) -> str:
    """The human part of a transport error ("[Errno 111] Connection refused", "Failed to resolve 'es' (...)")."""
    import re

    text = str(getattr(exc, "message", exc))
    found = re.search(r"Failed to resolve '[^']*' \(\[Errno [^\]]*\] [^)]*\)", text) or re.search(
        r"\[Errno [^\]]*\] [^)(]*", text
    )
    if found:
        return found.group(0).strip()
    return first_line(text.rsplit("caused by: ", 1)[-1].rstrip(")"))


class OneLineLogFormatter(logging.Formatter):
    """Warnings and errors logged on the way (a source or a hook that failed) as one line each, no traceback:
    the summary reports them too; a person needs what failed, not the stack."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message += f" ({type(exc).__name__}: {first_line(str(exc))})"
        return f"{record.levelname.lower()}: {message}"


PACKAGES = (
    "earful",
    "earful_common",
    "earful_listeners",
    "earful_nlp",
    "earful_indexer",
    "earful_alerts",
    "earful_complaints",
    "earful_records",
)


def log_one_line() -> None:
    """earful's own warnings on stderr, one line each (libraries' retry chatter stays silent, as before)."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineLogFormatter())
    handler.setLevel(logging.WARNING)
    for package in PACKAGES:
        logging.getLogger(package).addHandler(handler)
