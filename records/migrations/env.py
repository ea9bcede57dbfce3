"""Alembic environment: the engine comes from the caller (records.migrate), never from a committed file."""

from alembic import context

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, render_as_batch=True)
    context.run_migrations()
