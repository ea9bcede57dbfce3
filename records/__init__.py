"""The records database: cursors, alert outbox and complaint register live here (SQLAlchemy 2 + Alembic)."""
