"""The shared embedded index server: processes attach to one noida-db per data folder, nobody stops it under
another's feet, and nothing outlives its users (crashes included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from earful_common.processes import process_alive
from earful_indexer.embedded import (
    EmbeddedIndexError,
    answers,
    embedded_index,
    free_port,
    read_state,
    server_command,
)

REPO = Path(__file__).resolve().parents[2]

# A process that attaches to the data folder's index, prints the URL, and holds it until its stdin closes.
ATTACH = """
import sys
from pathlib import Path
from earful_indexer.embedded import embedded_index
with embedded_index(Path(sys.argv[1]), start_timeout=20) as url:
    print(url, flush=True)
    sys.stdin.read()
"""


def attach(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start an attached process; returns it and the URL it got."""
    proc = subprocess.Popen(
        [sys.executable, "-c", ATTACH, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def leave(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


def wait_until(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def put_doc(url: str, doc_id: str) -> None:
    response = httpx.put(f"{url}/shared-test/_doc/{doc_id}?refresh=true", json={"n": doc_id}, timeout=10)
    assert response.status_code in (200, 201), response.text


def has_doc(url: str, doc_id: str) -> bool:
    return httpx.get(f"{url}/shared-test/_doc/{doc_id}", timeout=10).json().get("found") is True


def test_two_processes_share_one_server_and_the_first_leaving_does_not_stop_it(tmp_path: Path) -> None:
    first, url = attach(tmp_path)
    second, url2 = attach(tmp_path)
    assert url2 == url  # the same server, not a second one (or a refusal)
    put_doc(url, "a")
    leave(first)  # the process that started it leaves: the server stays up for the other
    assert answers(url) and has_doc(url, "a")
    state = read_state(tmp_path / "index")
    assert state is not None
    leave(second)  # the last one leaves: stopped, and its data saved
    assert not answers(url) and not process_alive(state.server_pid) and read_state(tmp_path / "index") is None
    with embedded_index(tmp_path) as again:
        assert has_doc(again, "a")


def test_a_killed_starter_leaves_the_server_to_the_others_and_a_killed_last_user_leaves_no_orphan(
    tmp_path: Path,
) -> None:
    starter, url = attach(tmp_path)
    other, _ = attach(tmp_path)
    put_doc(url, "b")
    starter.kill()  # SIGKILL of the process that started the server
    starter.wait()
    time.sleep(1.0)  # more than the keeper's check interval
    assert answers(url) and has_doc(url, "b")
    state = read_state(tmp_path / "index")
    assert state is not None
    other.kill()  # the last user dies too: the keeper sees nobody is left and stops the server, saving
    other.wait()
    assert wait_until(lambda: not process_alive(state.keeper_pid) and not process_alive(state.server_pid))
    with embedded_index(tmp_path) as again:
        assert again != url and has_doc(again, "b")


def test_a_crashed_keeper_is_taken_over_by_the_next_start(tmp_path: Path) -> None:
    with embedded_index(tmp_path) as url:
        put_doc(url, "c")
        state = read_state(tmp_path / "index")
        assert state is not None
        os.kill(state.keeper_pid, signal.SIGKILL)  # the server gets SIGINT with it (and saves)
        assert wait_until(lambda: not process_alive(state.server_pid))
        with embedded_index(tmp_path) as taken_over:  # a stale server.json: a new server, the same data
            assert taken_over != url and has_doc(taken_over, "c")


def test_a_healthy_server_of_a_live_keeper_is_reused_never_replaced(tmp_path: Path) -> None:
    with embedded_index(tmp_path) as url:
        state = read_state(tmp_path / "index")
        for _ in range(3):
            with embedded_index(tmp_path) as again:
                assert again == url
        assert read_state(tmp_path / "index") == state and answers(url)


def test_a_noida_db_another_live_process_runs_on_the_folder_is_refused_not_killed(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    port = free_port()
    foreign = subprocess.Popen(server_command(folder, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: answers(url))
        with pytest.raises(EmbeddedIndexError) as refused:
            with embedded_index(tmp_path, start_timeout=5):
                pass
        message = str(refused.value)
        assert "\n" not in message and f"noida-db pid {foreign.pid}" in message and str(os.getpid()) in message
        assert answers(url)  # still running, untouched
    finally:
        foreign.send_signal(signal.SIGINT)
        foreign.wait(timeout=15)


def test_an_orphaned_noida_db_left_on_the_folder_is_stopped_and_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    port = free_port()
    # Started through a shell that exits at once: the server's parent is gone, as after a crash without a keeper.
    command = " ".join(server_command(folder, port))
    subprocess.run(["sh", "-c", f"setsid {command} >/dev/null 2>&1 &"], check=True)
    url = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: answers(url))
    put_doc(url, "d")
    with embedded_index(tmp_path) as ours:
        assert ours != url and has_doc(ours, "d")  # the orphan saved on SIGINT; ours loaded its data
    assert not answers(url)
