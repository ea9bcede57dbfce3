"""Fixtures the listener tests share."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """The listeners' records database (cursors, read budget): SQLite only; the budget's behaviour on both
    backends is tested in tests/records/test_budget.py."""
    return sqlite_engine
