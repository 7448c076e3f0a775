"""crisis alerts: the safety answer, who took the alert, when to raise it again

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with it already.
    if "crisisalert" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "crisisalert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("safety", sa.String(length=8), nullable=True),
        sa.Column("safety_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("realert_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("realerted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_crisisalert_user_id", "crisisalert", ["user_id"])
    op.create_index("ix_crisisalert_safety_due_at", "crisisalert", ["safety_due_at"])
    op.create_index("ix_crisisalert_realert_due_at", "crisisalert", ["realert_due_at"])


def downgrade() -> None:
    op.drop_table("crisisalert")
