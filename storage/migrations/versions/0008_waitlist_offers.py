"""waitlistentry: the time offered to a waiting client, now or last

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with them already.
    inspector = sa.inspect(op.get_bind())
    if "offer_ref" in {c["name"] for c in inspector.get_columns("waitlistentry")}:
        return
    with op.batch_alter_table("waitlistentry") as table:
        table.add_column(sa.Column("offer_ref", sa.String(length=16), nullable=True))
        table.add_column(sa.Column("offered_slot", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("waitlistentry") as table:
        table.drop_column("offered_slot")
        table.drop_column("offer_ref")
