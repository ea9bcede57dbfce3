"""Slack, Teams and signed-webhook channels, posting JSON with httpx.

Why not apprise for these three: apprise's notify() returns only True/False, so the sender could not tell a
429 with Retry-After (wait and retry) from a 404 (the webhook was deleted: park it) or a timeout; and its Slack and
Teams payloads are its own (no Adaptive Card for Workflows, its own escaping). Posting the JSON ourselves keeps the
status codes, the exact payload shape and the escaping under test. apprise stays available for other services
(channel type `apprise`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from pydantic import SecretStr

from earful_alerts.channels.base import Outcome, parse_retry_after
from earful_alerts.message import AlertMessage
from earful_alerts.render import slack_payload, teams_payload, webhook_payload

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
USER_AGENT = "earful-alerts/0.1"


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST a JSON body; classify the answer. The URL (a secret) never appears in the error text."""
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            response = client.post(
                url, content=body, headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
            )
    except httpx.TimeoutException:
        return Outcome(ok=False, error=f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(ok=False, error=f"connection failed ({type(exc).__name__})")
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(ok=True, status_code=code)
    snippet = " ".join(response.text[:200].split())
    return Outcome(
        ok=False,
        status_code=code,
        error=f"HTTP {code}: {snippet}" if snippet else f"HTTP {code}",
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        permanent=code not in RETRYABLE_STATUS,
    )


def _require(url: SecretStr | None) -> str | None:
    return url.get_secret_value() if url is not None else None


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _missing(name: str, what: str) -> Outcome:
    return Outcome(ok=False, error=f"channel {name}: no {what} configured", permanent=True)


class SlackChannel:
    """Slack incoming webhook (Block Kit, mrkdwn escaped)."""

    def __init__(self, name: str, url: SecretStr | None, timeout: float, ping_channel: bool = False) -> None:
        self.name, self._url, self._timeout, self._ping = name, url, timeout, ping_channel

    def send(self, message: AlertMessage) -> Outcome:
        url = _require(self._url)
        if url is None:
            return _missing(self.name, "webhook url (set EARFUL_ALERTS__CHANNELS__<NAME>__URL)")
        return post_json(url, _encode(slack_payload(message, ping_channel=self._ping)), {}, self._timeout)


class TeamsChannel:
    """Microsoft Teams Workflows webhook with an Adaptive Card (not the retired Office 365 connectors)."""

    def __init__(self, name: str, url: SecretStr | None, timeout: float) -> None:
        self.name, self._url, self._timeout = name, url, timeout

    def send(self, message: AlertMessage) -> Outcome:
        url = _require(self._url)
        if url is None:
            return _missing(self.name, "workflow url (set EARFUL_ALERTS__CHANNELS__<NAME>__URL)")
        return post_json(url, _encode(teams_payload(message)), {}, self._timeout)


SIGNATURE_HEADER = "X-Earful-Signature"
TIMESTAMP_HEADER = "X-Earful-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<raw body>`.

    The timestamp is inside the signed bytes, so a captured request cannot be replayed later with a fresh
    timestamp; receivers reject timestamps older than a few minutes and compare with hmac.compare_digest.
    """
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def capped_body(payload: dict[str, Any], max_bytes: int) -> bytes | None:
    """The JSON body within `max_bytes`: whole as long as it fits; else with fewer `items` (a digest) and
    `items_omitted` saying how many went, then without `details` (`details_omitted: true`); None if even that
    does not fit."""
    body = _encode(payload)
    if len(body) <= max_bytes:
        return body
    trimmed = dict(payload)
    items = list(payload.get("items") or [])
    while items:
        items = items[: len(items) // 2]
        trimmed["items"], trimmed["items_omitted"] = items, len(payload["items"]) - len(items)
        body = _encode(trimmed)
        if len(body) <= max_bytes:
            return body
    trimmed["details"], trimmed["details_omitted"] = {}, True
    body = _encode(trimmed)
    return body if len(body) <= max_bytes else None


class WebhookChannel:
    """Generic JSON webhook, HMAC-signed. `X-Earful-Alert-Id` lets receivers drop a re-delivery after a crash."""

    def __init__(
        self,
        name: str,
        url: SecretStr | None,
        secret: SecretStr | None,
        timeout: float,
        headers: dict[str, str] | None = None,
        max_body_bytes: int = 256_000,
    ) -> None:
        self.name, self._url, self._secret, self._timeout = name, url, secret, timeout
        self._headers = dict(headers or {})
        self._max_body = max_body_bytes

    def send(self, message: AlertMessage) -> Outcome:
        url = _require(self._url)
        if url is None:
            return _missing(self.name, "url (set EARFUL_ALERTS__CHANNELS__<NAME>__URL)")
        body = capped_body(webhook_payload(message), self._max_body)
        if body is None:
            return Outcome(
                ok=False,
                permanent=True,
                error=f"channel {self.name}: the alert does not fit in "
                f"max_body_bytes={self._max_body} even without its items and details",
            )
        timestamp = str(int(time.time()))
        headers = {**self._headers, "X-Earful-Alert-Id": message.id, TIMESTAMP_HEADER: timestamp}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret.get_secret_value().encode(), timestamp, body)
        return post_json(url, body, headers, self._timeout)
