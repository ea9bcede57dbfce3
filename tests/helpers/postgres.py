"""Throw-away PostgreSQL databases for tests, on the server named by EARFUL_TEST_PG_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Create a database `earful_<prefix>_<random>`, yield its URL, drop it afterwards; skip without a server."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = os.environ.get("EARFUL_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL not configured (set EARFUL_TEST_PG_URL)")
    name = f"earful_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
