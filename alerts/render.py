"""Rendering alerts for each target format, escaping every piece of user content for that format.

User content (mention titles, texts, author-supplied URLs, topic names) may contain markup that would ping a
whole channel (`<!channel>`, `@here`), hide a link (`<https://evil|bank>`), inject HTML into e-mail, or break a
card; each renderer escapes it for its own format and truncates it to a bounded length.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from earful_alerts.message import AlertMessage

EXCERPT_CHARS = 280
TITLE_CHARS = 200
SEVERITY_ICON = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SLACK_PING_RE = re.compile(r"@(?=(here|channel|everyone)\b)", re.IGNORECASE)
# Adaptive Card TextBlocks render a small Markdown subset: emphasis (* _), links ([text](url)) and lists at the
# start of a line. Only those characters are escaped; escaping more shows the backslashes in the native clients
# ("\<script\>", "0\.93").
_MD_SPECIAL_RE = re.compile(r"([\\*_\[\]()])")
_MD_LIST_START_RE = re.compile(r"^(\s*)([-+]|\d+\.)(\s)")
SLACK_SECTION_CHARS = 3000  # Block Kit: a section's text is at most 3,000 characters (else HTTP 400 invalid_blocks)
SLACK_MAX_BLOCKS = 50
_PARTIAL_ENTITY_RE = re.compile(r"&[a-z#0-9]*$")


def clean(text: object, limit: int = EXCERPT_CHARS) -> str:
    """Plain text safe to embed anywhere: NFC, no control or bidi-override characters, one line, bounded."""
    value = unicodedata.normalize("NFC", str(text or ""))
    value = _CONTROL_RE.sub("", value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def safe_url(url: object) -> str | None:
    """An http(s) URL without whitespace or markup-breaking characters, else None (no javascript: links)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in ' <>"|\n\r\t`'):
        return None
    return url[:2000]


def plain_text(message: AlertMessage) -> str:
    """The plain-text body (console, e-mail text part, apprise)."""
    lines = [f"[{message.severity.upper()}] {clean(message.title, TITLE_CHARS)}", clean(message.summary, 1000)]
    if message.items:
        for item in message.items:
            lines.append(f"- [{item.severity}] {clean(item.title, TITLE_CHARS)} — {clean(item.summary, 300)}")
        return "\n".join(lines)
    lines.append(
        f"rule: {clean(message.rule, 120)}" + (f" · topic: {clean(message.topic, 120)}" if message.topic else "")
    )
    if message.numbers:
        lines.append("numbers: " + ", ".join(f"{clean(k, 40)}={clean(v, 40)}" for k, v in message.numbers.items()))
    for example in message.examples:
        url = safe_url(example.get("url"))
        lines.append(f"- {clean(example.get('title') or example.get('text'), 160)}" + (f" <{url}>" if url else ""))
        if example.get("title") and example.get("text"):
            lines.append(f"  > {clean(example.get('text'), 200)}")
    lines.append(f"alert {message.id}" + (f" · seen {message.occurrences}x" if message.occurrences > 1 else ""))
    return "\n".join(lines)


# --- Slack -----------------------------------------------------------------------------------------------------


def slack_escape(text: object, limit: int = EXCERPT_CHARS) -> str:
    """Escape for Slack mrkdwn: &, <, > (kills <!channel>, <@U..>, <url|label>) and defuse bare @here/@channel.

    `limit` bounds the escaped text (what Slack counts), and a cut never splits an entity (`&l`)."""
    value = clean(text, 100_000).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _cut_escaped(_SLACK_PING_RE.sub("@\u200b", value), limit)


def _cut_escaped(value: str, limit: int) -> str:
    """`value` cut to `limit` characters with an ellipsis, backing off to before an entity the cut would split."""
    if len(value) <= limit:
        return value
    head = value[: max(limit - 1, 0)]
    partial = _PARTIAL_ENTITY_RE.search(head[-8:])
    if partial:
        head = head[: len(head) - (len(head[-8:]) - partial.start())]
    return head.rstrip() + "…"


def _fit_lines(lines: list[str], budget: int = SLACK_SECTION_CHARS - 100) -> str:
    """Whole lines, as many as fit in `budget` characters, then a line that says how many were left out."""
    kept: list[str] = []
    used = 0
    for position, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            kept.append(f"… and {len(lines) - position} more")
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def slack_link(url: object, label: object) -> str:
    """A Slack link whose label is escaped and whose URL is checked; plain escaped label when the URL is unsafe."""
    target = safe_url(url)
    text = slack_escape(label, 120).replace("|", "¦") or "link"
    if target is None:
        return text
    return f"<{target.replace('&', '&amp;')}|{text}>"


def _section(text: str) -> dict[str, Any]:
    """A mrkdwn section, never over Slack's limit (callers build within it; this is the last guard)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut_escaped(text, SLACK_SECTION_CHARS)}}


def slack_payload(message: AlertMessage, *, ping_channel: bool = False) -> dict[str, Any]:
    """Incoming-webhook payload: fallback `text` plus Block Kit sections (mrkdwn, escaped, within Slack's
    limits: 3,000 characters a section, 50 blocks)."""
    icon = SEVERITY_ICON.get(message.severity, "")
    head = f"{icon} *{slack_escape(message.title, TITLE_CHARS)}*"
    if ping_channel and message.severity == "critical":
        head = "<!channel> " + head  # our own, deliberate ping; user content can never produce one
    blocks: list[dict[str, Any]] = [_section(head + "\n" + slack_escape(message.summary, 1500))]
    if message.items:
        lines = [
            f"• [{i.severity}] {slack_escape(i.title, 150)} — {slack_escape(i.summary, 200)}" for i in message.items
        ]
        blocks.append(_section(_fit_lines(lines)))
    else:
        if message.numbers:
            facts = [f"{slack_escape(k, 40)}: {slack_escape(v, 40)}" for k, v in message.numbers.items()]
            blocks.append(_section(_fit_lines(facts)))
        for example in message.examples[: SLACK_MAX_BLOCKS - 3]:
            label = example.get("title") or example.get("text") or "mention"
            text = slack_link(example.get("url"), label) + "\n>" + slack_escape(example.get("text"), 280)
            blocks.append(_section(text))
    context = f"rule {slack_escape(message.rule, 80)}"
    if message.topic:
        context += f" · topic {slack_escape(message.topic, 80)}"
    context += f" · alert {message.id}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    fallback = f"[{message.severity}] {slack_escape(message.title, TITLE_CHARS)}"
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


# --- Microsoft Teams (Workflows webhook, Adaptive Card) ---------------------------------------------------------


def card_escape(text: object, limit: int = EXCERPT_CHARS) -> str:
    """Escape the Markdown subset Adaptive Card TextBlocks render (* _ [ ] ( ) and a list marker opening the
    text), so user text shows literally; truncated before escaping, so no escape is cut in half."""
    value = _MD_SPECIAL_RE.sub(r"\\\1", clean(text, limit))
    return _MD_LIST_START_RE.sub("\\1\\2\u200b\\3", value)


def adaptive_card(message: AlertMessage) -> dict[str, Any]:
    """An Adaptive Card 1.4 for the alert."""
    color = {"critical": "Attention", "warning": "Warning"}.get(message.severity, "Default")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{SEVERITY_ICON.get(message.severity, '')} {card_escape(message.title, TITLE_CHARS)}",
            "weight": "Bolder",
            "size": "Medium",
            "color": color,
            "wrap": True,
        },
        {"type": "TextBlock", "text": card_escape(message.summary, 1500), "wrap": True},
    ]
    actions: list[dict[str, Any]] = []
    if message.items:
        for item in message.items[:40]:
            body.append(
                {
                    "type": "TextBlock",
                    "wrap": True,
                    "spacing": "Small",
                    "text": f"[{item.severity}] {card_escape(item.title, 150)} — {card_escape(item.summary, 200)}",
                }
            )
    else:
        facts = [{"title": "rule", "value": card_escape(message.rule, 80)}]
        if message.topic:
            facts.append({"title": "topic", "value": card_escape(message.topic, 80)})
        facts += [{"title": card_escape(k, 40), "value": card_escape(v, 60)} for k, v in message.numbers.items()]
        body.append({"type": "FactSet", "facts": facts})
        for example in message.examples:
            body.append(
                {
                    "type": "TextBlock",
                    "wrap": True,
                    "isSubtle": True,
                    "text": card_escape(example.get("title") or example.get("text"), 280),
                }
            )
            url = safe_url(example.get("url"))
            if url and len(actions) < 5:
                actions.append(
                    {"type": "Action.OpenUrl", "title": card_escape(example.get("title") or "mention", 40), "url": url}
                )
    body.append({"type": "TextBlock", "text": f"alert {message.id}", "isSubtle": True, "size": "Small"})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def teams_payload(message: AlertMessage) -> dict[str, Any]:
    """The body a Teams Workflows webhook ("When a Teams webhook request is received") expects."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(message),
            }
        ],
    }


# --- E-mail ----------------------------------------------------------------------------------------------------


def email_subject(message: AlertMessage, prefix: str) -> str:
    """One header line: no CR/LF can reach the header (clean() joins lines)."""
    return clean(f"{prefix} [{message.severity}] {message.title}", 200)


def html_body(message: AlertMessage) -> str:
    """The HTML body; every user string passes html.escape, links only for http(s) URLs."""
    esc = lambda value, limit=EXCERPT_CHARS: html.escape(clean(value, limit), quote=True)  # noqa: E731
    parts = [
        f"<h2>{esc(message.severity.upper())}: {esc(message.title, TITLE_CHARS)}</h2>",
        f"<p>{esc(message.summary, 2000)}</p>",
    ]
    if message.items:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>[{esc(i.severity)}] {esc(i.title, 200)}</b> — {esc(i.summary, 300)}</li>"
                for i in message.items
            )
            + "</ul>"
        )
    else:
        parts.append(
            f"<p>rule: {esc(message.rule)}" + (f" · topic: {esc(message.topic)}" if message.topic else "") + "</p>"
        )
        if message.numbers:
            parts.append(
                "<table>"
                + "".join(
                    f"<tr><th align='left'>{esc(k, 40)}</th><td>{esc(v, 60)}</td></tr>"
                    for k, v in message.numbers.items()
                )
                + "</table>"
            )
        items = []
        for example in message.examples:
            label = esc(example.get("title") or "mention", 160)
            url = safe_url(example.get("url"))
            link = f'<a href="{html.escape(url, quote=True)}">{label}</a>' if url else label
            items.append(f"<li>{link}<br><small>{esc(example.get('text'))}</small></li>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
    parts.append(f"<p><small>alert {esc(message.id)}</small></p>")
    return "<!doctype html><html><body>" + "\n".join(parts) + "</body></html>"


# --- Generic webhook -------------------------------------------------------------------------------------------


def webhook_payload(message: AlertMessage) -> dict[str, Any]:
    """Structured JSON (JSON encoding is the escaping; receivers render it themselves)."""
    payload: dict[str, Any] = {
        "id": message.id,
        "kind": message.kind,
        "rule": message.rule,
        "topic": message.topic,
        "severity": message.severity,
        "title": message.title,
        "summary": message.summary,
        "created_at": message.created_at.isoformat(),
        "occurrences": message.occurrences,
        "details": message.details,
    }
    if message.items:
        payload["items"] = [webhook_payload(item) for item in message.items]
    return payload
