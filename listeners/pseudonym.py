"""Pseudonymous author references: a keyed hash, so the same person links up without storing the handle."""

from __future__ import annotations

import hashlib
import hmac


def author_ref(secret: str, source_kind: str, handle: str | None) -> str | None:
    """HMAC-SHA256 of `source_kind:handle` under `secret`, shortened; None when there is no author."""
    if not handle:
        return None
    normalized = handle.strip().lstrip("@").casefold()
    digest = hmac.new(secret.encode(), f"{source_kind}:{normalized}".encode(), hashlib.sha256).hexdigest()
    return f"a_{digest[:24]}"
