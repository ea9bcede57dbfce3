"""The embedded default index: a local noida-db server speaking the Elasticsearch REST API.

Started on 127.0.0.1 on a free port with its data in the data folder, used through the official client exactly
like a real cluster, and stopped (data saved) when the work is done.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class EmbeddedIndexError(RuntimeError):
    """The embedded index server could not be started."""


def _noida_binary() -> list[str]:
    """The noida-db server binary shipped in the noida-db wheel (run directly so that signals reach it)."""
    try:
        from importlib.resources import files

        binary = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        binary = None
    if binary is None or not binary.is_file():
        raise EmbeddedIndexError("noida-db is not installed (pip install noida-db), and no index url is configured")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return [str(binary)]


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGINT (a clean, saving stop) when the parent process dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: a crashed parent leaves the server running; the next start stops it


def stop_stale_server(folder: Path) -> None:
    """Stop a server left running on this data folder by a crashed run, so that two never share it."""
    import json

    control = folder / "noida.control.json"
    try:
        pid = int(json.loads(control.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    try:  # only a noida-db process: the pid may have been reused since the crash
        if b"noida-db" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        os.kill(pid, signal.SIGINT)
    except (OSError, ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedIndexError(f"noida-db exited with code {proc.returncode} while starting:\n{tail}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise EmbeddedIndexError(f"noida-db did not answer on {url} within {timeout:.0f} s (log: {log})")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop the server gracefully (SIGINT, as Ctrl-C, so it saves its data), killing it only if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def embedded_index(data_dir: Path, start_timeout: float = 30.0) -> Iterator[str]:
    """Run noida-db (Elasticsearch API only) with its data in `data_dir/index`; yields its URL."""
    folder = (data_dir / "index").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stop_stale_server(folder)
    port = free_port()
    log = folder / "noida-db.log"
    cmd = [*_noida_binary(), "start", "--data-dir", str(folder), "--host", "127.0.0.1",
           "--only", "elasticsearch", "--elasticsearch-port", str(port)]
    with log.open("ab") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, start_timeout, log)
        yield url
    finally:
        stop(proc)
