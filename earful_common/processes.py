"""Who is running: a process identified by pid *and* start time, so that a reused pid is not taken for it."""

from __future__ import annotations

import socket

import psutil


def process_started(pid: int) -> float:
    """The start time of `pid` (seconds since the epoch), as `process_alive` compares it."""
    return psutil.Process(pid).create_time()


def process_alive(pid: int, started: float | None = None) -> bool:
    """Whether `pid` runs (not a zombie) and, given `started`, is the process that started then (not a reuse)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 0.01
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def owner_token(pid: int) -> str:
    """`host:pid:start` naming a process across machines sharing a database (e.g. a lease holder)."""
    return f"{socket.gethostname()}:{pid}:{process_started(pid):.2f}"


def token_owner_gone(token: str | None) -> bool:
    """True when `token` names a process on this host that no longer runs; False if it runs, or is elsewhere
    (another host's process cannot be checked from here) or the token is unreadable."""
    if not token:
        return False
    rest = token.split(":")
    try:
        host, pid, started = ":".join(rest[:-2]), int(rest[-2]), float(rest[-1])
    except (ValueError, IndexError):
        return False
    if host != socket.gethostname():
        return False
    return not process_alive(pid, started)
