"""outbox: whose data a message shows, so that erasure finds every copy; booking: the
revision of its calendar file

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with it already.
    inspector = sa.inspect(op.get_bind())
    if "about" not in {c["name"] for c in inspector.get_columns("outboxmessage")}:
        with op.batch_alter_table("outboxmessage") as table:
            table.add_column(sa.Column("about", sa.BigInteger(), nullable=True))
            table.create_index("ix_outboxmessage_about", ["about"])
    if "sequence" not in {c["name"] for c in inspector.get_columns("booking")}:
        with op.batch_alter_table("booking") as table:
            table.add_column(
                sa.Column("sequence", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    with op.batch_alter_table("booking") as table:
        table.drop_column("sequence")
    with op.batch_alter_table("outboxmessage") as table:
        table.drop_index("ix_outboxmessage_about")
        table.drop_column("about")
