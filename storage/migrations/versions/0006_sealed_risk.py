"""booking.urgent and crisisalert.category hold sealed values (the risk category is health
data), longer than the 32 characters of a plain category

The values are sealed again by the bot at its next start (storage/sealing.py), which holds
the key; this revision only makes room for them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking") as table:
        table.alter_column("urgent", type_=sa.Text(), existing_nullable=True)
    with op.batch_alter_table("crisisalert") as table:
        table.alter_column("category", type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("crisisalert") as table:
        table.alter_column("category", type_=sa.String(length=32), existing_nullable=False)
    with op.batch_alter_table("booking") as table:
        table.alter_column("urgent", type_=sa.String(length=32), existing_nullable=True)
