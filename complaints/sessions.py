"""Signed-in sessions of the review web app, kept in the records database so that they can be ended at once.

The browser's cookie holds only a random token (secrets.token_urlsafe); the table keeps its SHA-256, the user
and the session's CSRF token. Sign-out ends one session; a password, role or active change ends all of a user's
sessions (complaints.users calls `end_sessions_of` in the same transaction). A session also ends when unused for
the idle timeout or when older than the absolute one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_complaints.clock import utc
from earful_complaints.tables import complaint_sessions

# Writing last_seen_at on every request would make every page view a write; this much staleness is harmless.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    """One signed-in session (the token itself is never kept)."""

    token_hash: str
    username: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime


def token_hash(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(engine: Engine, username: str, *, now: datetime) -> tuple[str, Session]:
    """A new session for `username`: (the token for the cookie, the session)."""
    token = secrets.token_urlsafe(32)
    session = Session(token_hash(token), username, secrets.token_urlsafe(32), utc(now), utc(now))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(complaint_sessions).values(
                token_hash=session.token_hash,
                username=username,
                csrf=session.csrf,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )
    return token, session


def load_session(
    engine: Engine, token: str | None, *, now: datetime, idle: timedelta, absolute: timedelta
) -> Session | None:
    """The live session of this token, or None (unknown, ended, idle too long or too old: then it is removed)."""
    if not token or len(token) > 200:
        return None
    key = token_hash(token)
    now = utc(now)
    with engine.connect() as conn:
        row = conn.execute(sa.select(complaint_sessions).where(complaint_sessions.c.token_hash == key)).first()
    if row is None:
        return None
    created, seen = utc(row.created_at), utc(row.last_seen_at)
    if now - seen >= idle or now - created >= absolute:
        end_session(engine, token)
        return None
    if now - seen >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                sa.update(complaint_sessions).where(complaint_sessions.c.token_hash == key).values(last_seen_at=now)
            )
        seen = now
    return Session(key, row.username, row.csrf, created, seen)


def end_session(engine: Engine, token: str | None) -> None:
    """End one session (sign-out); nothing happens for an unknown token."""
    if token:
        with engine.begin() as conn:
            conn.execute(sa.delete(complaint_sessions).where(complaint_sessions.c.token_hash == token_hash(token)))


def end_sessions_of(conn: Connection, username: str) -> int:
    """End every session of `username` inside the caller's transaction; returns how many there were."""
    return conn.execute(sa.delete(complaint_sessions).where(complaint_sessions.c.username == username)).rowcount


def purge_expired(engine: Engine, *, now: datetime, idle: timedelta, absolute: timedelta) -> int:
    """Remove sessions past either timeout (they are refused anyway; this keeps the table small)."""
    now = utc(now)
    with engine.begin() as conn:
        return conn.execute(
            sa.delete(complaint_sessions).where(
                sa.or_(
                    complaint_sessions.c.last_seen_at <= now - idle, complaint_sessions.c.created_at <= now - absolute
                )
            )
        ).rowcount
