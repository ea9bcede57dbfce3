"""People who use the register: argon2-hashed passwords and one role each (quality, viewer, admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from complaints.clock import now_utc
from complaints.errors import ComplaintError, NotAuthorized
from complaints.tables import complaint_users

ROLES = ("viewer", "quality", "admin")
WRITE_ROLES = frozenset({"quality", "admin"})
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# A hash to verify against when the user does not exist, so that timing does not reveal user names.
_DUMMY_PASSWORD = "not-a-real-password"


@dataclass(frozen=True)
class User:
    """A signed-in or looked-up person."""

    username: str
    role: str
    active: bool

    @property
    def can_write(self) -> bool:
        return self.active and self.role in WRITE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.active and self.role == "admin"


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def add_user(engine: Engine, username: str, password: str, role: str, *, now: datetime | None = None) -> User:
    """Create a user (ComplaintError if the name is taken or invalid, or the password too short)."""
    if not _USERNAME.match(username):
        raise ComplaintError("user names are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise ComplaintError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ComplaintError(f"passwords need at least {MIN_PASSWORD} characters")
    now = now or now_utc()
    with engine.begin() as conn:
        if conn.execute(sa.select(complaint_users.c.username).where(complaint_users.c.username == username)).first():
            raise ComplaintError(f"user {username!r} exists already")
        conn.execute(sa.insert(complaint_users).values(
            username=username, password_hash=_hasher().hash(password), role=role, active=True,
            created_at=now, updated_at=now))
    return User(username, role, True)


def set_user(engine: Engine, username: str, *, role: str | None = None, active: bool | None = None,
             password: str | None = None) -> User:
    """Change a user's role, active flag or password."""
    values: dict[str, object] = {"updated_at": now_utc()}
    if role is not None:
        if role not in ROLES:
            raise ComplaintError(f"role must be one of {', '.join(ROLES)}")
        values["role"] = role
    if active is not None:
        values["active"] = active
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ComplaintError(f"passwords need at least {MIN_PASSWORD} characters")
        values["password_hash"] = _hasher().hash(password)
    with engine.begin() as conn:
        if conn.execute(sa.update(complaint_users).where(complaint_users.c.username == username)
                        .values(**values)).rowcount != 1:
            raise ComplaintError(f"no user {username!r}")
    user = get_user(engine, username)
    assert user is not None
    return user


def get_user(engine: Engine, username: str) -> User | None:
    """The user, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(complaint_users).where(complaint_users.c.username == username)).first()
    return None if row is None else User(row.username, row.role, bool(row.active))


def list_users(engine: Engine) -> list[User]:
    """Every user, by name."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(complaint_users).order_by(complaint_users.c.username)).all()
    return [User(r.username, r.role, bool(r.active)) for r in rows]


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The active user with this password, or None (same work whether or not the user exists)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(complaint_users).where(complaint_users.c.username == username)).first()
    hasher = _hasher()
    stored = row.password_hash if row is not None else hasher.hash(_DUMMY_PASSWORD)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    if hasher.check_needs_rehash(stored):
        set_user(engine, username, password=password)
    return User(row.username, row.role, True)


def require_writer(engine: Engine, username: str) -> User:
    """The active user who may change records (quality or admin); NotAuthorized otherwise."""
    user = get_user(engine, username)
    if user is None or not user.active:
        raise NotAuthorized(f"{username!r} is not an active user of the register (see `earful complaints users add`)")
    if not user.can_write:
        raise NotAuthorized(f"{username!r} has the role {user.role!r}, which may not change records")
    return user
