"""One `earful run` at a time per data folder: a second one waits a bounded time, or refuses naming the first.

Two batches over the same cursors and outbox would fetch the same items twice and race on every commit; a cron
overlap is the usual cause. The lock is a file lock (`data_dir/run.lock`), which the kernel releases when its
holder dies, so a killed run never blocks the next one. Beside it, `run.owner.json` says who holds it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from earful_common.errors import ReportedError
from earful_common.processes import process_alive, process_started

LOCK_FILE = "run.lock"
OWNER_FILE = "run.owner.json"


class RunInProgress(ReportedError):
    """Another `earful run` holds the data folder (exit code 1)."""


def _holder(data_dir: Path) -> str:
    """Who holds the lock, in words, from the owner file it wrote (checked against the live process)."""
    try:
        owner = json.loads((data_dir / OWNER_FILE).read_text())
        pid, started = int(owner["pid"]), float(owner["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
    if not process_alive(pid, started):
        return "another process"
    since = datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"pid {pid} ({owner.get('command', '?')[:120]}, running since {since})"


@contextmanager
def run_lock(data_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the data folder's run lock for the body; wait up to `wait` seconds for it, else raise RunInProgress."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / LOCK_FILE, thread_local=False)
    try:
        lock.acquire(timeout=wait, poll_interval=0.2)
    except Timeout:
        waited = f" (waited {wait:g} s)" if wait else ""
        raise RunInProgress(
            f"data folder {data_dir} is in use by another earful run: {_holder(data_dir)}{waited}; "
            f"let it finish, or give --wait SECONDS"
        ) from None
    try:
        # The subcommand only: other arguments may carry credentials (--es-url https://user:secret@...).
        command = "earful " + sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].isalpha() else "earful"
        owner = {"pid": os.getpid(), "started": process_started(os.getpid()), "command": command}
        (data_dir / OWNER_FILE).write_text(json.dumps(owner))
        yield
    finally:
        with suppress(OSError):
            (data_dir / OWNER_FILE).unlink()
        lock.release()
