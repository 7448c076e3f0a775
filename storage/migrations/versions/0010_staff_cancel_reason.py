"""booking: why the staff cancelled it, and when the group was asked to mark it held or not
(held and no-show are new status values)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with it already.
    inspector = sa.inspect(op.get_bind())
    if "cancel_reason" in {c["name"] for c in inspector.get_columns("booking")}:
        return
    with op.batch_alter_table("booking") as table:
        table.add_column(sa.Column("cancel_reason", sa.String(length=32), nullable=True))
        table.add_column(
            sa.Column("attendance_asked_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Consultations already over are not asked about now, all at once, in the group.
    op.execute(
        "UPDATE booking SET attendance_asked_at = slot_start "
        "WHERE status = 'confirmed' AND slot_start < CURRENT_TIMESTAMP"
    )


def downgrade() -> None:
    with op.batch_alter_table("booking") as table:
        table.drop_column("attendance_asked_at")
        table.drop_column("cancel_reason")
