"""Monthly read budgets of paid APIs (X bills per post read): reserve before a request, release what was unused.

Reservations are atomic (a compare-and-set on the month's row), so two batches running at once never spend more
than the limit between them.
"""

from __future__ import annotations

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
