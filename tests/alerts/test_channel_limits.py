"""Channel payloads within the receivers' limits: Slack's 3,000-character sections with whole entities, Teams
Markdown escaped only where Adaptive Cards render it, webhook bodies capped, the README's verifier, and a warning
for unsigned webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import SecretStr
from rich.console import Console

from earful_alerts.channels import build_channel
from earful_alerts.channels.http import SlackChannel, WebhookChannel
from earful_alerts.config import WebhookChannel as WebhookSettings
from earful_alerts.message import AlertMessage
from earful_alerts.render import SLACK_SECTION_CHARS, adaptive_card, slack_payload

ANGLES = "Acme <3 & <<recall>> " * 400  # every character escapes to 4-5: a cut after escaping must hold whole entities


def message(**overrides) -> AlertMessage:
    fields = dict(
        id="al-1",
        kind="complaint",
        rule="complaints",
        severity="warning",
        title=ANGLES,
        summary=ANGLES,
        created_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
        topic="acme",
        details={
            "numbers": {f"n{i}<": "<&>" * 20 for i in range(80)},
            "examples": [{"url": "https://example.org/p", "title": ANGLES, "text": ANGLES}],
        },
    )
    return AlertMessage(**{**fields, **overrides})


def section_texts(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def test_slack_sections_stay_within_3000_characters_and_never_split_an_entity(receiver) -> None:
    digest = message(kind="digest", items=[message(id=f"al-{n}") for n in range(60)])
    for payload in (slack_payload(message()), slack_payload(digest)):
        for text in section_texts(payload):
            assert len(text) <= SLACK_SECTION_CHARS
            assert not re.search(r"&(?!amp;|lt;|gt;)", text)  # no cut entity like "&l"
    assert section_texts(slack_payload(digest))[1].endswith("more")  # says what was left out
    assert SlackChannel("slack", SecretStr(receiver.url), 5.0).send(digest).ok


def test_slack_does_not_escape_twice() -> None:
    payload = slack_payload(message(title="Acme & NordPeak <3", summary="s", details={}))
    assert "Acme &amp; NordPeak &lt;3" in section_texts(payload)[0] and "&amp;amp;" not in str(payload)


def test_teams_escapes_only_the_markdown_adaptive_cards_render() -> None:
    card = adaptive_card(message(title="Acme <script> at 0.93 *now* [x](y)", summary="- not a list", details={}))
    title, summary = card["body"][0]["text"], card["body"][1]["text"]
    assert title.endswith("Acme <script> at 0.93 \\*now\\* \\[x\\]\\(y\\)")
    assert summary == "-\u200b not a list"


def test_a_webhook_body_is_capped_by_dropping_items_then_details(receiver) -> None:
    digest = message(kind="digest", items=[message(id=f"al-{n}") for n in range(200)])
    channel = WebhookChannel("hook", SecretStr(receiver.url), SecretStr("s"), 5.0, max_body_bytes=64_000)
    assert channel.send(digest).ok
    body = receiver.requests[0].body
    assert len(body) <= 64_000
    sent = receiver.requests[0].json()
    assert sent["items_omitted"] == 200 - len(sent["items"]) and sent["items_omitted"] > 0


def test_the_readme_verifier_accepts_earful_requests_and_refuses_forged_ones(receiver) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("### Signed webhooks", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - the documented snippet, run as a receiver would
    verify = namespace["verify"]
    assert WebhookChannel("hook", SecretStr(receiver.url), SecretStr("whsec"), 5.0).send(message()).ok
    request = receiver.requests[0]
    headers = {
        "X-Earful-Timestamp": request.headers["x-earful-timestamp"],
        "X-Earful-Signature": request.headers["x-earful-signature"],
    }
    assert verify(b"whsec", headers, request.body)
    assert not verify(b"other", headers, request.body)
    assert not verify(b"whsec", headers, request.body + b" ")
    assert not verify(b"whsec", {**headers, "X-Earful-Timestamp": "1000000000"}, request.body)


def test_a_webhook_without_a_secret_is_warned_about(receiver) -> None:
    console = Console(record=True, width=200)
    build_channel("ops_hook", WebhookSettings(type="webhook", url=SecretStr(receiver.url)), console)
    assert "EARFUL_ALERTS__CHANNELS__OPS_HOOK__SECRET" in console.export_text()
    quiet = Console(record=True, width=200)
    build_channel("ops_hook", WebhookSettings(type="webhook", url=SecretStr(receiver.url), secret="k"), quiet)
    assert quiet.export_text() == ""
