"""drop blocked_chat: a blocked client's queued messages are dropped; nothing else is kept

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:21:49.909739
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS blockedchat")  # a store adopted from create_all may lack it


def downgrade() -> None:
    op.create_table(
        "blockedchat",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
