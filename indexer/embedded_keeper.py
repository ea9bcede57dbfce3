"""The keeper of a shared embedded index server: `python -m earful_indexer.embedded_keeper FOLDER`.

Started by the first process that attaches to a data folder's index (in its own session, so that its starter's
exit or Ctrl-C does not reach it). It runs noida-db as its child, records it in server.json, and stops it (SIGINT:
noida-db saves its data) when no attached process is left, or when told to (SIGTERM, from the last one leaving).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

from filelock import FileLock, Timeout

from earful_common.processes import process_started
from earful_indexer.embedded import (
    LOCK_FILE,
    LOG_FILE,
    ServerState,
    answers,
    die_with_parent,
    free_port,
    live_users,
    remove_state,
    server_command,
    write_state,
)

PORT_TRIES = 3


class _Stop(Exception):
    """Raised by the signal handler: stop the server and exit."""


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop the server gracefully (SIGINT, as Ctrl-C, so it saves its data), killing it only if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if answers(url, timeout=1.0):
            return True
        time.sleep(0.05)
    return False


def _stop_if_idle(
    folder: Path, proc: subprocess.Popen[bytes], idle_since: float | None, idle_stop: float
) -> tuple[bool, float | None]:
    """Under server.lock (skipped while someone holds it): stop the server when nobody has been attached for
    `idle_stop` seconds. Returns (stopped, the moment it became idle)."""
    lock = FileLock(folder / LOCK_FILE, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False, idle_since  # someone is attaching or leaving
    try:
        if live_users(folder):
            return False, None
        idle_since = time.monotonic() if idle_since is None else idle_since
        if time.monotonic() - idle_since < idle_stop:
            return False, idle_since
        stop_server(proc)  # while holding the lock: nobody attaches to a server that is stopping
        remove_state(folder, os.getpid())
        return True, idle_since
    finally:
        lock.release()


def keep(folder: Path, start_timeout: float, idle_stop: float, poll: float = 0.5) -> int:
    """Run the server of `folder` until it has been idle for `idle_stop` seconds (or a stop signal)."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    proc: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + start_timeout
        for _ in range(PORT_TRIES):  # a free port can be taken by another process before the server binds it
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with (folder / LOG_FILE).open("ab") as log:
                proc = subprocess.Popen(
                    server_command(folder, port),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=die_with_parent,
                )
            if _wait_until_up(url, proc, max(0.0, deadline - time.monotonic())):
                break
            if proc.poll() is None:
                return 1  # no answer in time (the finally block stops it)
        else:
            return 1
        write_state(folder, ServerState(os.getpid(), process_started(os.getpid()), proc.pid, url))
        idle_since: float | None = None
        while proc.poll() is None:
            time.sleep(poll)
            stopped, idle_since = _stop_if_idle(folder, proc, idle_since, idle_stop)
            if stopped:
                return 0
        return 1  # the server ended on its own
    except _Stop:
        return 0
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut the saving stop short
        if proc is not None:
            stop_server(proc)
        remove_state(folder, os.getpid())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry of the keeper process."""
    parser = argparse.ArgumentParser(prog="python -m earful_indexer.embedded_keeper")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--start-timeout", type=float, default=30.0)
    parser.add_argument("--idle-stop", type=float, default=0.0)
    args = parser.parse_args(argv)
    return keep(args.folder.resolve(), args.start_timeout, args.idle_stop)


if __name__ == "__main__":
    raise SystemExit(main())
