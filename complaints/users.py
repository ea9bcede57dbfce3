"""People who use the web app: argon2-hashed passwords and one role each (viewer, comms, quality, admin).

viewer reads everything; comms (communication teams) read everything and act on the listening dashboard
(open a complaint record from a mention, mark a label wrong, retry a parked alert) but never change records;
quality and admin do both, admin also manages users.

Changing a user's password, role or active flag ends all of their signed-in sessions in the same transaction.
New passwords must meet the policy of complaints.passwords (NIST SP 800-63B).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from earful_complaints.clock import now_utc
from earful_complaints.config import LimitSettings
from earful_complaints.errors import ComplaintError, NotAuthorized
from earful_complaints.passwords import check_password
from earful_complaints.sessions import end_sessions_of
from earful_complaints.tables import complaint_users

ROLES = ("viewer", "comms", "quality", "admin")
WRITE_ROLES = frozenset({"quality", "admin"})
DASHBOARD_ACTION_ROLES = frozenset({"comms", "quality", "admin"})
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


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
    def can_act_on_dashboard(self) -> bool:
        """May open complaint records from mentions, correct labels and retry parked alerts."""
        return self.active and self.role in DASHBOARD_ACTION_ROLES

    @property
    def is_admin(self) -> bool:
        return self.active and self.role == "admin"


class PasswordVerifier:
    """Checks sign-ins with argon2: exactly one `verify` per attempt, whether or not the user exists.

    For unknown user names the password is verified against a hash made once, when the verifier is created, with
    the same parameters as real ones, so both cases cost the same and timing does not reveal who has an account.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(24))

    def authenticate(self, engine: Engine, username: str, password: str) -> User | None:
        """The active user with this password, or None. Slow on purpose (argon2): call it off the event loop."""
        row = None
        if _USERNAME.match(username):
            with engine.connect() as conn:
                row = conn.execute(sa.select(complaint_users).where(complaint_users.c.username == username)).first()
        stored = row.password_hash if row is not None else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if self.hasher.check_needs_rehash(stored):
            # New hash parameters for the same password: not a password change, so sessions stay.
            with engine.begin() as conn:
                conn.execute(
                    sa.update(complaint_users)
                    .where(complaint_users.c.username == username)
                    .values(password_hash=self.hasher.hash(password))
                )
        return User(row.username, row.role, True)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ComplaintError(f"role must be one of {', '.join(ROLES)}")


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    limits: LimitSettings | None = None,
    now: datetime | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """Create a user (ComplaintError if the name is taken or invalid, or the password too weak)."""
    if not _USERNAME.match(username):
        raise ComplaintError("user names are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    _check_role(role)
    limits = limits or LimitSettings()
    check_password(
        password, username=username, min_length=limits.password_min_length, max_length=limits.password_max_length
    )
    now = now or now_utc()
    password_hash = (hasher or PasswordHasher()).hash(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(complaint_users.c.username).where(complaint_users.c.username == username)).first():
            raise ComplaintError(f"user {username!r} exists already")
        conn.execute(
            sa.insert(complaint_users).values(
                username=username, password_hash=password_hash, role=role, active=True, created_at=now, updated_at=now
            )
        )
    return User(username, role, True)


def set_user(
    engine: Engine,
    username: str,
    *,
    limits: LimitSettings | None = None,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """Change a user's role, active flag or password; any real change ends all of the user's sessions."""
    current = get_user(engine, username)
    if current is None:
        raise ComplaintError(f"no user {username!r}")
    values: dict[str, object] = {"updated_at": now_utc()}
    if role is not None:
        _check_role(role)
        values["role"] = role
    if active is not None:
        values["active"] = active
    if password is not None:
        limits = limits or LimitSettings()
        check_password(
            password, username=username, min_length=limits.password_min_length, max_length=limits.password_max_length
        )
        values["password_hash"] = (hasher or PasswordHasher()).hash(password)
    changed = (
        password is not None
        or (role is not None and role != current.role)
        or (active is not None and active != current.active)
    )
    with engine.begin() as conn:
        if (
            conn.execute(
                sa.update(complaint_users).where(complaint_users.c.username == username).values(**values)
            ).rowcount
            != 1
        ):
            raise ComplaintError(f"no user {username!r}")
        if changed:
            end_sessions_of(conn, username)
    user = get_user(engine, username)
    if user is None:  # removed meanwhile by another session
        raise ComplaintError(f"no user {username!r}")
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


def staff_names(bind: Engine | Connection) -> tuple[str, ...]:
    """The active users who may change records: the people owners, investigators and deciders are chosen from."""
    query = (
        sa.select(complaint_users.c.username)
        .where(complaint_users.c.active == sa.true(), complaint_users.c.role.in_(sorted(WRITE_ROLES)))
        .order_by(complaint_users.c.username)
    )
    if isinstance(bind, Connection):
        return tuple(bind.execute(query).scalars())
    with bind.connect() as conn:
        return tuple(conn.execute(query).scalars())


def require_writer(engine: Engine, username: str) -> User:
    """The active user who may change records (quality or admin); NotAuthorized otherwise."""
    user = get_user(engine, username)
    if user is None or not user.active:
        raise NotAuthorized(f"{username!r} is not an active user of the register (see `earful complaints users add`)")
    if not user.can_write:
        raise NotAuthorized(f"{username!r} has the role {user.role!r}, which may not change records")
    return user
