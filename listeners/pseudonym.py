"""Pseudonymous author references: a keyed hash, so the same person links up without storing the handle.

The key is the most stable identity the platform gives: the account id where there is one (X `author_id`,
Reddit `author_fullname`), which survives renames and is present when the handle is not; an RSS feed only has
the author string it prints."""

from __future__ import annotations

import hashlib
import hmac


def author_ref(secret: str, source_kind: str, identity: str | None) -> str | None:
    """HMAC-SHA256 of `source_kind:identity` under `secret`, shortened; None when there is no author.

    `identity` is the account's platform id (X, Reddit) or the feed's author string (RSS)."""
    if not identity:
        return None
    normalized = identity.strip().lstrip("@").casefold()
    digest = hmac.new(secret.encode(), f"{source_kind}:{normalized}".encode(), hashlib.sha256).hexdigest()
    return f"a_{digest[:24]}"
