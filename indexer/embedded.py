"""The embedded default index: a local noida-db server speaking the Elasticsearch REST API, shared safely.

One server per data folder, used through the official client exactly like a real cluster. Every process that
needs it (an `earful` command, each of several concurrent Airflow tasks) *attaches* to it; the first one starts it,
the last one to leave stops it (data saved). Nobody else ever stops it.

How, in `data_dir/index/`:
- `server.lock` (a file lock, held for a moment) serialises attaching, detaching and the keeper's idle check.
- `users/<pid>-<token>.lock`: each attached process holds a lock on its own file for as long as it uses the server.
  The kernel drops the lock when the process dies (kill -9 included), so a crashed user is seen as gone.
- The server is the child of a small *keeper* process (`python -m earful_indexer.embedded_keeper`) in its own session:
  not the child of whoever started it, so that its starter's exit, Ctrl-C or crash does not stop it while others
  use it. The keeper stops the server when no user is left, and the server stops (SIGINT, saving) if the keeper
  dies (PR_SET_PDEATHSIG), so nothing outlives its users.
- `server.json`: the keeper's and the server's pid and start time, and the URL. A server is healthy when its keeper
  is that same process (pid and start time) and the server answers on that URL as noida-db; only an unowned
  noida-db left on the folder by a crash is ever stopped by a starting process.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from filelock import FileLock, Timeout

from earful_common.errors import ReportedError
from earful_common.processes import process_alive

STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
USERS_DIR = "users"
LOG_FILE = "noida-db.log"


class EmbeddedIndexError(ReportedError):
    """The embedded index server could not be started or reached."""


@dataclass(frozen=True)
class ServerState:
    """Who runs the shared server of one data folder, and where it answers (the content of server.json)."""

    keeper_pid: int
    keeper_started: float  # the keeper's start time (psutil), so that a reused pid is not taken for it
    server_pid: int
    url: str


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


def die_with_parent() -> None:
    """In a child process: ask Linux to send SIGINT (a clean, saving stop) when the parent process dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the keeper's own stop still runs on SIGTERM/SIGINT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(folder: Path, port: int) -> list[str]:
    """The noida-db command line for the Elasticsearch API only, on 127.0.0.1:`port`, data in `folder`."""
    return [
        *_noida_binary(),
        "start",
        "--data-dir",
        str(folder),
        "--host",
        "127.0.0.1",
        "--only",
        "elasticsearch",
        "--elasticsearch-port",
        str(port),
    ]


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a noida-db Elasticsearch API answers on `url` (not just any server on that port)."""
    try:
        response = httpx.get(url, timeout=timeout)
        return response.status_code == 200 and response.json().get("name") == "noida-db"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def read_state(folder: Path) -> ServerState | None:
    """The recorded server of `folder`, or None."""
    try:
        return ServerState(**json.loads((folder / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_state(folder: Path, state: ServerState) -> None:
    """Record the server atomically (readers never see half a file)."""
    tmp = folder / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(asdict(state)))
    tmp.replace(folder / STATE_FILE)


def remove_state(folder: Path, keeper_pid: int) -> None:
    """Remove server.json if it still names this keeper."""
    state = read_state(folder)
    if state is not None and state.keeper_pid == keeper_pid:
        with suppress(FileNotFoundError):
            (folder / STATE_FILE).unlink()


def live_users(folder: Path) -> int:
    """How many processes are attached; the lock files of dead ones are removed. Call with server.lock held."""
    count = 0
    for path in sorted((folder / USERS_DIR).glob("*.lock")):
        probe = FileLock(path, thread_local=False)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            count += 1  # its owner holds it: alive
            continue
        try:
            path.unlink(missing_ok=True)  # nobody holds it: its owner ended (or was killed)
        finally:
            probe.release()
    return count


REAPERS = ("init", "systemd", "tini", "dumb-init")  # what an orphan is re-parented to


def _owner_of(pid: int) -> tuple[int, str] | None:
    """The parent of `pid` (pid, program name: not its arguments, which may hold credentials) when it is alive and
    not init; None for an orphan."""
    import psutil

    try:
        parent = psutil.Process(pid).parent()
        if parent is None or parent.pid == 1 or parent.name() in REAPERS:
            return None
        return parent.pid, parent.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _noida_on_folder(folder: Path) -> int | None:
    """The pid of a noida-db process serving `folder` (from noida-db's own control file), or None."""
    try:
        pid = int(json.loads((folder / "noida.control.json").read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not cmdline or not cmdline[0].endswith(b"noida-db") or str(folder).encode() not in cmdline:
        return None  # the pid was reused by something else since
    return pid if process_alive(pid) else None


def _stop_pid(pid: int, timeout: float = 15.0) -> None:
    """SIGINT (noida-db saves and exits), then SIGKILL if it hangs."""
    import psutil

    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        with suppress(psutil.NoSuchProcess):
            proc.kill()
    except psutil.NoSuchProcess:
        pass


def clear_unowned_server(folder: Path) -> None:
    """Before starting a server on `folder`: stop a noida-db that no live keeper owns and whose parent is gone
    (left by a crash); refuse, with one line, to touch one that another live process runs."""
    pid = _noida_on_folder(folder)
    if pid is None:
        return
    owner = _owner_of(pid)
    if owner is not None:
        raise EmbeddedIndexError(
            f"index folder {folder}: noida-db pid {pid} runs on it, started by pid {owner[0]} ({owner[1]}), not by "
            f"earful's shared index; stop it, or point index.url at it"
        )
    _stop_pid(pid)


def _start_keeper(folder: Path, start_timeout: float, idle_stop: float) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "earful_indexer.embedded_keeper",
        str(folder),
        "--start-timeout",
        str(start_timeout),
        "--idle-stop",
        str(idle_stop),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_import_root(), os.environ.get("PYTHONPATH")) if p)}
    with (folder / LOG_FILE).open("ab") as log:
        keeper = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            close_fds=True,
        )
    # Reap it when it ends (it may outlive our use of it, but not this process): no zombie is left behind.
    threading.Thread(target=keeper.wait, name="earful-index-keeper-reaper", daemon=True).start()
    return keeper


def _import_root() -> str:
    """The folder this package is imported from, so the keeper runs the same code as its starter."""
    return str(Path(__file__).resolve().parents[1])


def _log_tail(folder: Path) -> str:
    try:
        lines = (folder / LOG_FILE).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    useful = [line for line in lines if "GLIBC" not in line]  # a harmless loader warning of the binary
    return useful[-1][:300] if useful else ""


def _wait_for_keeper(folder: Path, keeper: subprocess.Popen[bytes], timeout: float) -> ServerState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(folder)
        if state is not None and state.keeper_pid == keeper.pid and answers(state.url, timeout=1.0):
            return state
        if keeper.poll() is not None:
            raise EmbeddedIndexError(
                f"index folder {folder}: the index server exited while starting "
                f"(code {keeper.returncode}): {_log_tail(folder)} (log: {folder / LOG_FILE})"
            )
        time.sleep(0.05)
    keeper.terminate()
    raise EmbeddedIndexError(
        f"index folder {folder}: the index server did not answer within {timeout:.0f} s (log: {folder / LOG_FILE})"
    )


def _attach(folder: Path, start_timeout: float, idle_stop: float) -> str:
    """The URL of the folder's healthy server, started if there is none. Call with server.lock held."""
    state = read_state(folder)
    if state is not None and process_alive(state.keeper_pid, state.keeper_started):
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:  # owned by a live keeper: use it; never stop it
            if answers(state.url):
                return state.url
            if not process_alive(state.keeper_pid, state.keeper_started):
                break  # it ended meanwhile: start a new one below
            time.sleep(0.2)
        else:
            raise EmbeddedIndexError(
                f"index folder {folder}: its index server (pid {state.server_pid}, kept by pid {state.keeper_pid}) "
                f"does not answer on {state.url} within {start_timeout:.0f} s; it was left running"
            )
    if state is not None:  # its keeper died: the server got SIGINT with it; let it finish saving
        if process_alive(state.server_pid):
            _stop_pid(state.server_pid)
        remove_state(folder, state.keeper_pid)
    clear_unowned_server(folder)
    keeper = _start_keeper(folder, start_timeout, idle_stop)
    return _wait_for_keeper(folder, keeper, start_timeout).url


def _stop_keeper(state: ServerState, timeout: float) -> None:
    """Ask the keeper to stop its server (it saves) and wait until both are gone."""
    import psutil

    if not process_alive(state.keeper_pid, state.keeper_started):
        return
    try:
        keeper = psutil.Process(state.keeper_pid)
        keeper.terminate()
        keeper.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        with suppress(psutil.NoSuchProcess):
            keeper.kill()  # its server gets SIGINT from PR_SET_PDEATHSIG
    except psutil.NoSuchProcess:
        pass
    if process_alive(state.server_pid):
        _stop_pid(state.server_pid, timeout)


def _control_lock(folder: Path, timeout: float) -> FileLock:
    lock = FileLock(folder / LOCK_FILE, thread_local=False)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise EmbeddedIndexError(
            f"index folder {folder}: could not take {LOCK_FILE} within {timeout:.0f} s "
            f"(another process is starting or stopping the index server)"
        ) from None
    return lock


@contextmanager
def embedded_index(data_dir: Path, start_timeout: float = 30.0, idle_stop: float = 0.0) -> Iterator[str]:
    """Attach to the shared noida-db server of `data_dir/index` (starting it if none runs); yields its URL.

    On leaving, the last process attached stops it and waits until its data is saved; with `idle_stop` > 0 the
    server is left to its keeper, which stops it after that many idle seconds (consecutive tasks reuse it)."""
    folder = (data_dir / "index").resolve()
    (folder / USERS_DIR).mkdir(parents=True, exist_ok=True)
    control = _control_lock(folder, start_timeout)
    try:
        user = FileLock(folder / USERS_DIR / f"{os.getpid()}-{secrets.token_hex(4)}.lock", thread_local=False)
        user.acquire(timeout=0)
        try:
            url = _attach(folder, start_timeout, idle_stop)
        except BaseException:
            _leave(user)
            raise
    finally:
        control.release()
    try:
        yield url
    finally:
        _detach(folder, user, start_timeout, idle_stop)


def _leave(user: FileLock) -> None:
    user.release()
    Path(user.lock_file).unlink(missing_ok=True)


def _detach(folder: Path, user: FileLock, timeout: float, idle_stop: float) -> None:
    try:
        control = _control_lock(folder, timeout)
    except EmbeddedIndexError:
        _leave(user)  # the keeper sees we are gone and stops the server if we were the last
        return
    try:
        _leave(user)
        if idle_stop <= 0 and live_users(folder) == 0:
            state = read_state(folder)
            if state is not None:
                _stop_keeper(state, timeout)
                remove_state(folder, state.keeper_pid)
    finally:
        control.release()
