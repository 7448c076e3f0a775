"""audit log: who did what as staff, and when (no client data)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with it already.
    if "auditentry" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_auditentry_at", "auditentry", ["at"])


def downgrade() -> None:
    op.drop_table("auditentry")
