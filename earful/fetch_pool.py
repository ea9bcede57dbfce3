"""The fetch worker processes of a batch: they fetch, parse and annotate sources beside it, and end with it.

Each worker builds what every fetch needs once, when it starts (the compiled topics, the near-duplicate
fingerprinter, an HTTP client with its connection pool and TLS context), instead of once per source: with many
small feeds, building those per fetch cost more than the parsing the workers are there for.

A worker ends with its batch even when the batch is killed with SIGKILL (nothing runs in the parent then): on
Linux the kernel sends it SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), and on every platform a watchdog
thread exits the worker once its parent process is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from earful_listeners.base import FetchResult, Listener
from earful_listeners.config import TopicSettings
from earful_listeners.dedupe import Fingerprinter
from earful_listeners.topics import CompiledTopic

if TYPE_CHECKING:
    import httpx

    from earful_listeners.rss import RssListener

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_CHECK_SECONDS = 1.0


@dataclass
class WorkerState:
    """What a worker process builds once and reuses for every fetch."""

    topics: list[CompiledTopic]
    min_letters: int
    fingerprinter: Fingerprinter
    clients: dict[Any, Any] = field(default_factory=dict)  # one HTTP client per distinct client setting


# The state of this worker process; set by init_worker in worker processes only (never in the batch's own).
_worker: WorkerState | None = None


def fetch_pool(processes: int, topics: list[TopicSettings], min_letters: int) -> ProcessPoolExecutor:
    """A pool of `processes` fetch workers (spawned: no copy of the batch's threads, locks or connections)."""
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(os.getpid(), topics, min_letters),
    )


def init_worker(parent_pid: int, topics: list[TopicSettings], min_letters: int) -> None:
    """Start-up of a worker process: tie its life to the parent's, then build the reusable state."""
    global _worker
    from earful.annotate import compile_topics

    die_with_parent(parent_pid)
    _worker = WorkerState(topics=compile_topics(topics), min_letters=min_letters, fingerprinter=Fingerprinter())


def die_with_parent(parent_pid: int, interval: float = PARENT_CHECK_SECONDS) -> None:
    """End this process when `parent_pid` ends: PR_SET_PDEATHSIG where Linux offers it, and a watchdog thread
    (the death signal follows the parent thread that spawned us, and misses a parent that died before it was
    set; the watchdog covers both)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog still ends the worker
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:  # re-parented: the batch is gone
                os._exit(1)

    threading.Thread(target=watch, name="earful-parent-watchdog", daemon=True).start()


def fetch_in_worker(listener: Listener, cursor: dict[str, Any] | None) -> FetchResult:
    """Fetch one source and annotate its mentions with this worker's reusable state: what a worker runs."""
    from earful.annotate import annotate

    state = _worker
    if state is None:
        raise RuntimeError("fetch_in_worker runs in a fetch worker process (started by fetch_pool)")
    from earful_listeners.rss import RssListener

    if isinstance(listener, RssListener):  # feeds share this worker's HTTP clients
        listener.use_client(_client_for(state, listener))
    fetched = listener.fetch(cursor)
    annotate(fetched.mentions, state.topics, state.min_letters, state.fingerprinter)
    fetched.annotated = True
    return fetched


def _client_for(state: WorkerState, listener: RssListener) -> httpx.Client:
    """This worker's HTTP client for the listener's fetch limits (one per distinct setting; all feeds share one)."""
    from earful_listeners.rss import make_http_client

    rss = listener.rss
    key = (rss.connect_timeout, rss.read_timeout, rss.max_redirects)
    if key not in state.clients:
        state.clients[key] = make_http_client(rss)
    return state.clients[key]
