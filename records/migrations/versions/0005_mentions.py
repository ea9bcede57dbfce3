"""Mentions as the system of record: the full document, written with the source's cursor; the index is derived.

Revision ID: records_0005
Revises: records_0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "records_0005"
down_revision = "records_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("source_kind", sa.String(40), nullable=False),
        sa.Column("author_ref", sa.String(128)),
        sa.Column("author_raw", sa.String(300)),
        sa.Column("published_epoch", sa.BigInteger),
        sa.Column("fetched_epoch", sa.BigInteger, nullable=False),
        sa.Column("stored_epoch", sa.BigInteger, nullable=False),
        sa.Column("index_state", sa.SmallInteger, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_index("ix_mentions_author_ref", "mentions", ["author_ref"])
    op.create_index("ix_mentions_published_epoch", "mentions", ["published_epoch"])
    op.create_index("ix_mentions_index_state", "mentions", ["index_state"])


def downgrade() -> None:
    op.drop_table("mentions")
