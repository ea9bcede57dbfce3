"""Alembic environment: the engine comes from the caller (records.migrate), never from a committed file."""

from alembic import context

from earful_records.migrate import ADVISORY_LOCK_KEY

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Concurrent first starts: the second waits here, then sees the schema the first created.
        timeout_ms = int(config.attributes.get("lock_timeout", 120.0) * 1000)
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
    context.configure(connection=connection, render_as_batch=True)
    context.run_migrations()
