"""booking: when the staff get a reminder of a request still pending, and when they did

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:30:52
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with them already.
    inspector = sa.inspect(op.get_bind())
    if "staff_reminder_due_at" in {c["name"] for c in inspector.get_columns("booking")}:
        return
    with op.batch_alter_table("booking") as table:
        table.add_column(
            sa.Column("staff_reminder_due_at", sa.DateTime(timezone=True), nullable=True)
        )
        table.add_column(sa.Column("staff_reminded_at", sa.DateTime(timezone=True), nullable=True))
    # The requests already waiting have waited since they were made: their reminder is due.
    op.execute("UPDATE booking SET staff_reminder_due_at = created_at WHERE status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("booking") as table:
        table.drop_column("staff_reminded_at")
        table.drop_column("staff_reminder_due_at")
