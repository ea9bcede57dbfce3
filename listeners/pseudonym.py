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


def author_keys(source_kind: str, given: str) -> list[str]:
    """The keys a person's pseudonym can have on `source_kind`, from what they give (erasure by author).

    Mastodon keys on the actor id, so `@user@domain` gives Mastodon's actor and profile URLs (an actor URL can be
    given as it is); Bluesky keys on the DID, which must be given (`did:plc:...`: a handle changes, and resolving
    it needs the network); the other sources key on the handle itself.
    """
    given = given.strip()
    if source_kind == "mastodon":
        from earful_listeners.mastodon_normalize import handle_keys

        return handle_keys(given)
    if source_kind == "bluesky":
        return [given] if given.startswith("did:") else []
    return [given] if given.lstrip("@") else []
