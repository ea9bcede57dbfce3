"""Fixtures of the alert tests: HTTP receivers on 127.0.0.1 standing in for Slack / Teams / webhooks, and a real
SMTP server (aiosmtpd) with STARTTLS and login; the records databases (`engine`, `sqlite_engine`) are the shared
ones of tests/conftest.py."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.http_server import serving


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP receiver on 127.0.0.1: records requests and answers with scripted responses."""

    url: str
    requests: list[Received] = field(default_factory=list)
    # Each script entry: (status, headers, delay seconds); the last one repeats.
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=lambda: [(200, {}, 0.0)])

    def answer(self, *entries: tuple[int, dict[str, str], float]) -> None:
        self.script = list(entries)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, delay = state.script.pop(0) if len(state.script) > 1 else state.script[0]
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                payload = b"ok" if status < 300 else b"nope"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as base_url:
        state.url = f"{base_url}/hook"
        yield state


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Any]
    client_tls: ssl.SSLContext
    logins: list[str]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and login (user 'alerts', password 's3cret')."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from earful_indexer.embedded import free_port

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    messages: list[Any] = []
    logins: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"alerts" and auth_data.password == b"s3cret"
        if ok:
            logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield SmtpServer("127.0.0.1", port, messages, client_tls, logins)
    controller.stop()


@pytest.fixture
def index(es_url: str):  # -> (es client, alias)
    """A fresh mention index (the project's template) under a unique alias; the official client."""
    from earful_indexer.client import make_client
    from earful_indexer.config import IndexSettings
    from earful_indexer.template import ensure_index

    settings = IndexSettings(alias=f"alerts-test-{uuid.uuid4().hex[:8]}")
    es = make_client(settings, es_url)
    ensure_index(es, settings)
    yield es, settings.alias
    es.indices.delete(index=f"{settings.alias}-000001", ignore_unavailable=True)
    es.close()


def mention_doc(
    i: int | str,
    *,
    topic: str,
    at: dt.datetime,
    sentiment: str = "neutral",
    reach: int = 10,
    complaint: float = 0.05,
    title: str = "",
    text: str = "",
    url: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """A mention document of the indexed shape (with its id), written for these tests."""
    iso = at.astimezone(dt.UTC).isoformat()
    return {
        "id": f"m-{topic}-{i}",
        "source_kind": "rss",
        "source": "rss:test",
        "native_id": str(i),
        "url": url or f"https://news.example.org/{topic}/{i}",
        "title": title or f"Post {i} about {topic}",
        "text": text or f"Generated text {i} mentioning {topic}.",
        "author_ref": "a" * 16,
        "published_at": iso,
        "fetched_at": iso,
        "reach": reach,
        "engagement": {"likes": 1},
        "language": language,
        "topics": [topic],
        "labels": {
            "sentiment": sentiment,
            "sentiment_scores": {"negative": 0.1, "neutral": 0.8, "positive": 0.1},
            "complaint": complaint >= 0.5,
            "complaint_probability": complaint,
            "model": "test",
            "model_version": "1",
        },
    }


def bulk_index(es: Any, alias: str, docs: list[dict[str, Any]]) -> None:
    from elasticsearch import helpers

    actions = ({"_index": alias, "_id": d["id"], "_source": {k: v for k, v in d.items() if k != "id"}} for d in docs)
    helpers.bulk(es, actions, refresh=True, chunk_size=2000)
