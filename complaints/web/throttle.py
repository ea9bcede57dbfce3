"""Sign-in throttling kept in the records database: an exponential delay per client address and per account.

Every attempt counts against the client's address and the account name; after `free_failures` failures each
further attempt has to wait base_delay * 2^(failures - free_failures) seconds (capped) after the last one. The
account's delay applies only to clients that have failed themselves, so guessing someone's password from one
place never keeps that person out from another: nobody can lock an account. Attempts are counted before the
password is checked (and given back on success), so parallel guesses cannot slip through together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from earful_complaints.clock import utc
from earful_complaints.config import SignInThrottleSettings
from earful_complaints.tables import complaint_signin_failures as failures_table


@dataclass(frozen=True)
class _Count:
    key: str
    kind: str
    stored: int | None  # as in the table (None: no row)
    failures: int  # what counts now (0 once forgotten)
    last: datetime | None


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class SignInThrottle:
    """Decides whether a sign-in attempt may go ahead, and counts it."""

    def __init__(self, engine: Engine, settings: SignInThrottleSettings) -> None:
        self.engine = engine
        self.settings = settings

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the last of `failures` failures."""
        extra = failures - self.settings.free_failures
        if extra < 0:
            return 0.0
        return min(self.settings.base_delay_seconds * 2 ** min(extra, 60), self.settings.max_delay_seconds)

    def _read(self, kind: str, key: str, now: datetime) -> _Count:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(failures_table).where(failures_table.c.key_hash == key)).first()
        if row is None:
            return _Count(key, kind, None, 0, None)
        last = utc(row.last_failure_at)
        forgotten = now - last >= timedelta(minutes=self.settings.forget_after_minutes)
        return _Count(key, kind, row.failures, 0 if forgotten else row.failures, last)

    def _wait(self, count: _Count, now: datetime) -> float:
        if count.last is None or count.failures == 0:
            return 0.0
        return max(0.0, (count.last + timedelta(seconds=self.delay_after(count.failures)) - now).total_seconds())

    def _count(self, count: _Count, now: datetime) -> bool:
        """Add this attempt, unless a concurrent attempt counted first (then False and nothing is written)."""
        t = failures_table
        try:
            with self.engine.begin() as conn:
                if count.stored is None:
                    conn.execute(
                        sa.insert(t).values(key_hash=count.key, kind=count.kind, failures=1, last_failure_at=now)
                    )
                    return True
                return (
                    conn.execute(
                        sa.update(t)
                        .where(t.c.key_hash == count.key, t.c.failures == count.stored)
                        .values(failures=count.failures + 1, last_failure_at=now)
                    ).rowcount
                    == 1
                )
        except IntegrityError:  # another attempt inserted the row first
            return False

    def attempt(self, username: str, client: str, now: datetime) -> float:
        """0 when the attempt may go ahead (it is counted as a failure until `succeeded`); else seconds to wait."""
        now = utc(now)
        by_client = self._read("client", _key("client", client), now)
        wait = self._wait(by_client, now)
        if wait > 0:
            return wait
        by_account = self._read("account", _key("account", username), now)
        has_failed = by_client.failures > 0
        if has_failed:
            wait = self._wait(by_account, now)
            if wait > 0:
                return wait
        if not self._count(by_client, now):
            return self.settings.base_delay_seconds  # a parallel attempt from this client is being checked
        if not self._count(by_account, now):
            if has_failed:
                return self.settings.base_delay_seconds
            for _ in range(3):  # a client that has not failed is never held up by others' attempts
                if self._count(self._read("account", by_account.key, now), now):
                    break
        return 0.0

    def succeeded(self, username: str, client: str) -> None:
        """The attempt was right: the account starts afresh and the client gets its attempt back."""
        t = failures_table
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.key_hash == _key("account", username)))
            conn.execute(
                sa.update(t)
                .where(t.c.key_hash == _key("client", client), t.c.failures > 0)
                .values(failures=t.c.failures - 1)
            )

    def purge(self, now: datetime) -> int:
        """Remove counts too old to matter (keeps the table small); returns how many."""
        cutoff = utc(now) - timedelta(minutes=self.settings.forget_after_minutes)
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(failures_table).where(failures_table.c.last_failure_at < cutoff)).rowcount
