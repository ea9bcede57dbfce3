"""Benchmark: does a sign-in flood stall the review app, and does sign-in time tell known from unknown users?

Serves the real app (uvicorn on 127.0.0.1, a temporary SQLite records database) and, as the baseline in the
same run, a minimal app that checks passwords the way the app used to (argon2 inside an `async def` route, on
the event loop). For each: /healthz latency idle and during a flood of sign-ins (N clients x M attempts, each
client its own address through the trusted-proxy header), then the median sign-in time for an unknown user vs a
known user with a wrong password.

    .venv/bin/python bench/signin.py                      # 8 clients x 40 sign-ins
    .venv/bin/python bench/signin.py --clients 4 --attempts 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model
from earful.schema import upgrade
from earful_complaints.config import ComplaintsSettings
from earful_complaints.users import add_user
from earful_complaints.web.app import create_app
from earful_records.db import make_engine

PASSWORD = "pale orange kettle on a quiet shelf"


@contextmanager
def serve(app):  # noqa: ANN001, ANN201
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def old_style_app(hashes: dict[str, str]) -> FastAPI:
    """The baseline: argon2 verify inside an async route, and the dummy password hashed on every call."""
    app = FastAPI()
    hasher = PasswordHasher()

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"

    @app.get("/login", response_class=PlainTextResponse)
    async def login_page() -> str:
        return 'name="csrf_token" value="x"'

    @app.post("/login")
    async def login(request: Request) -> PlainTextResponse:
        form = await request.form()
        stored = hashes.get(str(form.get("username"))) or hasher.hash("not-a-real-password")
        try:
            hasher.verify(stored, str(form.get("password")))
            return PlainTextResponse("ok", status_code=303)
        except Exception:  # noqa: BLE001
            return PlainTextResponse("no", status_code=401)

    return app


def sign_in(url: str, address: str, username: str, password: str) -> float:
    with httpx.Client(base_url=url, timeout=60, headers={"X-Forwarded-For": address}) as client:
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        started = time.perf_counter()
        client.post("/login", data={"csrf_token": token, "username": username, "password": password})
        return time.perf_counter() - started


def healthz_ms(url: str, samples: int, stop: threading.Event | None = None) -> list[float]:
    out = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(samples):
            if stop is not None and stop.is_set():
                break
            started = time.perf_counter()
            client.get("/healthz")
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    return out


def measure(name: str, url: str, users: list[str], clients: int, attempts: int) -> None:
    idle = healthz_ms(url, 30)
    stop = threading.Event()

    def flood(i: int) -> None:
        for j in range(attempts):
            sign_in(url, f"10.1.{i}.{j}", users[i % len(users)], PASSWORD)

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(clients)]
    busy: list[float] = []
    sampler = threading.Thread(target=lambda: busy.extend(healthz_ms(url, 100_000, stop)))
    for t in threads:
        t.start()
    sampler.start()
    for t in threads:
        t.join()
    stop.set()
    sampler.join()
    p90 = statistics.quantiles(busy, n=10)[-1] if len(busy) >= 10 else max(busy)
    unknown = [sign_in(url, f"10.2.0.{i}", f"nobody{i}", "wrong password") * 1000 for i in range(15)]
    known = [sign_in(url, f"10.3.0.{i}", users[0], "wrong password") * 1000 for i in range(15)]
    print(
        f"{name:<28} healthz idle {statistics.median(idle):7.1f} ms | during flood median "
        f"{statistics.median(busy):7.1f} ms, p90 {p90:7.1f} ms, max {max(busy):7.1f} ms ({len(busy)} probes) | "
        f"sign-in unknown user "
        f"{statistics.median(unknown):6.1f} ms, known user {statistics.median(known):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--attempts", type=int, default=40)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; {args.clients} clients x {args.attempts} sign-ins")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/records.db")
        upgrade(engine)
        settings = ComplaintsSettings()
        settings.web.trusted_proxies = ["127.0.0.1"]
        users = [f"user{i}" for i in range(args.clients)]
        hasher = PasswordHasher()
        for name in users:
            add_user(engine, name, PASSWORD, "quality", hasher=hasher)
        hashes = {name: hasher.hash(PASSWORD) for name in users}
        with serve(old_style_app(hashes)) as url:
            measure("baseline (argon2 on loop)", url, users, args.clients, args.attempts)
        with serve(create_app(engine, settings)) as url:
            measure("earful (worker threads)", url, users, args.clients, args.attempts)
        engine.dispose()


if __name__ == "__main__":
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("signin", lines, cpu_model())
