"""Monthly read budgets of paid APIs (X bills per post read): reserve before a request, release what was unused.

Reservations are atomic (a compare-and-set on the month's row), so two batches running at once never spend more
than the limit between them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from earful_records.tables import x_read_budget

_MAX_ATTEMPTS = 20


def current_month(now: datetime | None = None) -> str:
    """The budget month of `now` (UTC), as YYYY-MM."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m")


def used(engine: Engine, key: str, month: str) -> int:
    """Reads counted so far in `month` under `key`."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(x_read_budget.c.used).where(x_read_budget.c.budget_key == key, x_read_budget.c.month == month)
        ).scalar()
    return int(value or 0)


def reserve(engine: Engine, key: str, month: str, wanted: int, limit: int) -> int:
    """Reserve up to `wanted` reads within `limit`; returns how many were granted (0 when the budget is spent)."""
    if wanted <= 0:
        return 0
    for _ in range(_MAX_ATTEMPTS):
        seen = _ensure_row(engine, key, month)
        granted = max(0, min(wanted, limit - seen))
        if granted == 0:
            return 0
        with engine.begin() as conn:
            updated = conn.execute(
                sa.update(x_read_budget)
                .where(x_read_budget.c.budget_key == key, x_read_budget.c.month == month, x_read_budget.c.used == seen)
                .values(used=seen + granted, updated_at=datetime.now(UTC))
            ).rowcount
        if updated == 1:
            return granted
    raise RuntimeError(f"read budget '{key}' {month}: too much contention")


def spend(engine: Engine, key: str, month: str, n: int, limit: int) -> bool:
    """Count `n` reads if all of them fit in `limit`; False (nothing counted) when they do not."""
    granted = reserve(engine, key, month, n, limit)
    if granted < n:
        release(engine, key, month, granted)
        return False
    return True


def release(engine: Engine, key: str, month: str, n: int) -> None:
    """Give back `n` reserved reads that were not used."""
    if n <= 0:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.update(x_read_budget)
            .where(x_read_budget.c.budget_key == key, x_read_budget.c.month == month)
            .values(
                used=sa.func.max(x_read_budget.c.used - n, 0)
                if engine.dialect.name == "sqlite"
                else sa.func.greatest(x_read_budget.c.used - n, 0),
                updated_at=datetime.now(UTC),
            )
        )


def _ensure_row(engine: Engine, key: str, month: str) -> int:
    current = _read(engine, key, month)
    if current is not None:
        return current
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(x_read_budget).values(budget_key=key, month=month, used=0, updated_at=datetime.now(UTC))
            )
        return 0
    except IntegrityError:  # another batch created the row first
        return _read(engine, key, month) or 0


def _read(engine: Engine, key: str, month: str) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(x_read_budget.c.used).where(x_read_budget.c.budget_key == key, x_read_budget.c.month == month)
        ).scalar()
    return None if value is None else int(value)


class MonthlyBudget:
    """One budget (`key`, at most `limit` reads a month) kept in the records database; what the X listeners are
    given as their read budget (earful_listeners.x.ReadBudget)."""

    def __init__(self, engine: Engine, key: str, limit: int, month: Callable[[], str] | None = None) -> None:
        self._engine, self.key, self.limit = engine, key, limit
        self._month = month or current_month

    def reserve(self, wanted: int) -> tuple[str, int]:
        """Reserve up to `wanted` reads this month; returns the month and how many were granted."""
        month = self._month()
        return month, reserve(self._engine, self.key, month, wanted, self.limit)

    def release(self, month: str, n: int) -> None:
        """Give back `n` reserved reads of `month` that were not used."""
        release(self._engine, self.key, month, n)

    def used(self) -> int:
        """Reads counted so far this month."""
        return used(self._engine, self.key, self._month())
