"""A running review web app on 127.0.0.1 (real uvicorn in a thread) with users and a few records."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import Engine

from earful_complaints.clock import now_utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.intake import RegisterComplaintOpener, open_manual
from earful_complaints.tables import complaint_users
from tests.complaints.conftest import make_mention

PASSWORDS = {"dana": "dana-password-1", "ivan": "ivan-password-1", "vera": "vera-password-1", "ada": "ada-password-123"}
ROLES = {"dana": "quality", "ivan": "quality", "vera": "viewer", "ada": "admin"}
HOSTILE = '<script>document.title="pwned";alert(1)</script><img src=x onerror=alert(2)> my kettle exploded'
PERSIAN = "سفارش من خراب رسید و هیچ‌کس جواب نمی‌دهد. لطفاً پول را برگردانید!"


class FakeClock:
    """The time the app's sessions and sign-in throttle see; moves only when a test says so."""

    def __init__(self) -> None:
        self.now = now_utc()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class WebApp:
    url: str
    engine: Engine
    settings: ComplaintsSettings
    refs: dict[str, str]
    clock: FakeClock


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port; yields its base URL."""
    # Proxy headers are the app's business (web.trusted_proxies), as under `earful complaints serve`.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@functools.cache
def _password_hashes() -> dict[str, str]:
    """argon2 hashing is slow on purpose; hash the test passwords once per session."""
    return {name: PasswordHasher().hash(password) for name, password in PASSWORDS.items()}


def seed(engine: Engine, settings: ComplaintsSettings) -> dict[str, str]:
    """Users of every role and three records: plain, hostile HTML, Persian (right to left)."""
    now = now_utc()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(complaint_users),
            [
                {
                    "username": name,
                    "password_hash": hashed,
                    "role": ROLES[name],
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for name, hashed in _password_hashes().items()
            ],
        )
    opener = RegisterComplaintOpener(engine, settings)
    refs = {
        "plain": opener.open_from_alert(
            mention=make_mention(1), alert_id="alert-1", topic="acme", rule="complaint_detected"
        ),
        "hostile": opener.open_from_alert(
            mention=make_mention(2, text=HOSTILE, url="javascript:alert(3)"),
            alert_id="alert-2",
            topic="acme",
            rule="complaint_detected",
        ),
        "persian": opener.open_from_alert(
            mention=make_mention(3, text=PERSIAN, language="fa"),
            alert_id="alert-3",
            topic="acme",
            rule="complaint_detected",
        ),
    }
    refs["manual"] = open_manual(
        engine, settings, {"channel": "phone", "description": "Late delivery, twice."}, actor="dana"
    )
    return refs


def web_settings(settings: ComplaintsSettings) -> ComplaintsSettings:
    """The settings with 127.0.0.1 as a trusted proxy, so tests can speak for several clients (X-Forwarded-For)."""
    return settings.model_copy(update={"web": settings.web.model_copy(update={"trusted_proxies": ["127.0.0.1"]})})


@contextmanager
def running_app(
    engine: Engine, settings: ComplaintsSettings, *, hasher: PasswordHasher | None = None, **app_options: object
) -> Iterator[WebApp]:
    from earful_complaints.web.app import create_app

    settings = web_settings(settings)
    refs = seed(engine, settings)
    clock = FakeClock()
    with serve(create_app(engine, settings, clock=clock, hasher=hasher, **app_options)) as url:
        yield WebApp(url, engine, settings, refs, clock)


@contextmanager
def running_app_with_mail(engine: Engine, settings: ComplaintsSettings, smtp_server: object) -> Iterator[WebApp]:
    """The app with sending on: the alerts e-mail channel pointed at the test's real SMTP server (as `app.smtp`)."""
    from earful_alerts.config import EmailChannel

    mail = EmailChannel(
        type="email",
        host=smtp_server.host,
        port=smtp_server.port,
        username="alerts",
        password="s3cret",
        sender="complaints@example.org",
    )
    with running_app(engine, settings, mail=mail, mail_ssl=smtp_server.client_tls) as app:
        app.smtp = smtp_server
        yield app
