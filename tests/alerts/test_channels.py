"""Channels against real receivers on 127.0.0.1: payload shape, escaping of hostile text, HMAC signature, SMTP."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

from pydantic import SecretStr
from rich.console import Console

from earful_alerts.channels.console import ConsoleChannel
from earful_alerts.channels.http import SlackChannel, TeamsChannel, WebhookChannel
from earful_alerts.channels.smtp import EmailChannel
from earful_alerts.config import EmailChannel as EmailSettings
from earful_alerts.message import AlertMessage

HOSTILE_TITLE = "<!channel> @here refund NOW <https://evil.example/phish|your bank> <script>alert(1)</script>"
HOSTILE_TEXT = (
    "Broken again!!! <@U12345> &amp; *bold* _it_ [click](javascript:alert(1)) "
    "\u202eRTL override\u202c مرحبا بالعالم " + "x" * 5000
)


def hostile_message() -> AlertMessage:
    return AlertMessage(
        id="al-0123456789abcdef",
        kind="complaint",
        rule="complaints",
        severity="warning",
        title=HOSTILE_TITLE,
        summary="Complaint detected <b>bold</b> @channel",
        created_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
        topic="acme",
        details={
            "numbers": {"probability": 0.93},
            "examples": [
                {
                    "id": "m1",
                    "url": "https://example.org/post/1?a=1&b=<2>",
                    "title": HOSTILE_TITLE,
                    "text": HOSTILE_TEXT,
                },
                {"id": "m2", "url": "javascript:alert(1)", "title": "bad link", "text": "t"},
            ],
        },
    )


def test_slack_payload_escapes_pings_links_and_markup(receiver):
    outcome = SlackChannel("slack", SecretStr(receiver.url), 5.0).send(hostile_message())
    assert outcome.ok and outcome.status_code == 200
    payload = receiver.requests[0].json()
    assert set(payload) >= {"text", "blocks"}
    texts = (
        [payload["text"]]
        + [b["text"]["text"] for b in payload["blocks"] if "text" in b]
        + [e["text"] for b in payload["blocks"] if b["type"] == "context" for e in b["elements"]]
    )
    joined = "\n".join(texts)
    assert "<!channel>" not in joined and "<@U12345>" not in joined
    assert "<https://evil.example" not in joined
    assert "&lt;!channel&gt;" in joined
    assert not re.search(r"(?<!\u200b)@here", joined.replace("@\u200bhere", ""))
    assert "@\u200bhere" in joined
    assert "\u202e" not in joined
    # our own link to the example is a proper Slack link, with & escaped and no javascript: link
    assert "<https://example.org/post/1?a=1&amp;b=" not in joined  # URL with <> is refused entirely
    assert "javascript:" not in "".join(re.findall(r"<([^>|]+)\|", joined))
    assert max(len(t) for t in texts) < 3001  # Slack's section limit


def test_slack_ping_is_only_ours_and_only_when_configured(receiver):
    message = hostile_message()
    message.severity = "critical"
    SlackChannel("slack", SecretStr(receiver.url), 5.0, ping_channel=True).send(message)
    first = receiver.requests[0].json()["blocks"][0]["text"]["text"]
    assert first.startswith("<!channel> ") and first.count("<!channel>") == 1


def test_teams_workflow_adaptive_card(receiver):
    message = hostile_message()
    assert TeamsChannel("teams", SecretStr(receiver.url), 5.0).send(message).ok
    payload = receiver.requests[0].json()
    assert payload["type"] == "message"
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    title = card["body"][0]["text"]
    # only the Markdown Adaptive Cards render is escaped; a backslash before < or . would show (issue 15)
    assert "<script>alert\\(1\\)</script>" in title and "\\<" not in title
    assert all(a["url"].startswith("https://") for a in card.get("actions", []))
    assert not any("javascript" in a["url"] for a in card.get("actions", []))


def test_webhook_is_signed_over_timestamp_and_raw_body(receiver):
    secret = "whsec-test-123"
    channel = WebhookChannel("hook", SecretStr(receiver.url), SecretStr(secret), 5.0, {"X-Tenant": "acme"})
    assert channel.send(hostile_message()).ok
    request = receiver.requests[0]
    timestamp = request.headers["x-earful-timestamp"]
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(request.headers["x-earful-signature"], expected)
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 60
    assert request.headers["x-earful-alert-id"] == "al-0123456789abcdef"
    assert request.headers["x-tenant"] == "acme"
    body = request.json()
    assert body["title"] == HOSTILE_TITLE  # JSON carries the raw text; JSON encoding is the escaping
    assert body["details"]["examples"][0]["id"] == "m1"


def test_missing_url_is_a_permanent_failure_without_leaking_secrets():
    outcome = SlackChannel("slack", None, 5.0).send(hostile_message())
    assert not outcome.ok and outcome.permanent and "EARFUL_ALERTS__CHANNELS" in outcome.error


def test_http_failures_are_classified(receiver):
    channel = WebhookChannel("hook", SecretStr(receiver.url), None, 1.0)
    receiver.answer((429, {"Retry-After": "120"}, 0), (500, {}, 0), (404, {}, 0), (200, {}, 2.0))
    too_many = channel.send(hostile_message())
    assert (too_many.ok, too_many.status_code, too_many.retry_after, too_many.permanent) == (False, 429, 120.0, False)
    server_error = channel.send(hostile_message())
    assert server_error.status_code == 500 and not server_error.permanent
    gone = channel.send(hostile_message())
    assert gone.status_code == 404 and gone.permanent
    hung = WebhookChannel("hook", SecretStr(receiver.url), None, 0.05).send(hostile_message())  # a tiny timeout
    assert not hung.ok and "timed out" in hung.error and not hung.permanent
    assert receiver.url not in (too_many.error + server_error.error + gone.error + hung.error)


def test_connection_refused_is_temporary():
    from earful_indexer.embedded import free_port

    outcome = SlackChannel("slack", SecretStr(f"http://127.0.0.1:{free_port()}/x"), 1.0).send(hostile_message())
    assert not outcome.ok and not outcome.permanent and "connection failed" in outcome.error


def _email_settings(server, **overrides) -> EmailSettings:
    values = dict(
        type="email",
        host=server.host,
        port=server.port,
        security="starttls",
        username="alerts",
        password="s3cret",
        sender="earful@example.org",
        to=["comms@example.org"],
    )
    values.update(overrides)
    return EmailSettings(**values)


def test_email_starttls_login_plain_and_html(smtp_server):
    channel = EmailChannel("mail", _email_settings(smtp_server), ssl_context=smtp_server.client_tls)
    outcome = channel.send(hostile_message())
    assert outcome.ok, outcome.error
    assert smtp_server.logins == ["alerts"]
    mail = smtp_server.messages[0]
    assert "\n" not in mail["Subject"] and mail["Subject"].startswith("[earful] [warning]")
    assert mail["X-Earful-Alert-Id"] == "al-0123456789abcdef"
    plain = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert 'href="javascript' not in html_part
    assert "مرحبا" in plain and "\u202e" not in plain


def test_email_wrong_password_is_permanent(smtp_server):
    channel = EmailChannel("mail", _email_settings(smtp_server, password="wrong"), ssl_context=smtp_server.client_tls)
    outcome = channel.send(hostile_message())
    assert not outcome.ok and outcome.permanent and "wrong" not in outcome.error, outcome


def test_email_untrusted_certificate_fails_temporarily(smtp_server):
    outcome = EmailChannel("mail", _email_settings(smtp_server)).send(hostile_message())  # default trust store
    assert not outcome.ok and not outcome.permanent and "SSL" in outcome.error


def test_console_prints_markup_literally():
    console = Console(record=True, width=200, color_system=None)
    ConsoleChannel("console", console).send(hostile_message())
    out = console.export_text()
    assert "[WARNING]" in out and "<!channel>" in out  # the console shows it as text; nothing to ping there
