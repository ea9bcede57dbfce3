"""`earful web` (and its old name `earful complaints serve`) as a user starts it: on the embedded default it
attaches the data folder's noida-db for as long as it runs, serves the register and the dashboard, and stops
cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.earful.test_cli import REPO, demo_config, earful


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_earful_web_serves_dashboard_on_the_embedded_index(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    env = {"EARFUL_COMPLAINTS_PASSWORD": "cora-password-long-1"}
    added = earful(
        "complaints", "users", "add", "cora", "--role", "comms", "--config", str(config), cwd=tmp_path, env=env
    )
    assert added.returncode == 0, added.stderr
    assert "comms" in added.stdout
    old = earful("complaints", "serve", "--help", cwd=tmp_path)
    assert old.returncode == 0 and "listening dashboard" in old.stdout
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "web", "--config", str(config), "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "earful web did not answer"
            time.sleep(0.3)
        with httpx.Client(base_url=url, timeout=30) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            form = {"username": "cora", "password": env["EARFUL_COMPLAINTS_PASSWORD"], "csrf_token": token}
            assert c.post("/login", data={**form, "next": "/dashboard"}).headers["location"] == "/dashboard"
            page = c.get("/dashboard")
            assert page.status_code == 200 and '<b id="total">0</b>' in page.text
            assert c.get("/mentions").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
