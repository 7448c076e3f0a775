"""one transaction per update: conversation versions, outbox priorities and message ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NEW_COLUMNS = {
    "conversation": [sa.Column("version", sa.Integer(), nullable=False, server_default="0")],
    "outboxmessage": [
        sa.Column("priority", sa.Integer(), nullable=False, server_default="2"),
        sa.Column("origin", sa.String(length=32), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
    ],
    "processedupdate": [sa.Column("failed", sa.String(length=64), nullable=True)],
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table_name, columns in NEW_COLUMNS.items():
        # A store adopted from create_all (storage/migrate.py) was made with them already.
        present = {column["name"] for column in inspector.get_columns(table_name)}
        missing = [column for column in columns if column.name not in present]
        if missing:
            with op.batch_alter_table(table_name) as table:
                for column in missing:
                    table.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("processedupdate") as table:
        table.drop_column("failed")
    with op.batch_alter_table("outboxmessage") as table:
        table.drop_column("claimed_by")
        table.drop_column("message_id")
        table.drop_column("origin")
        table.drop_column("priority")
    with op.batch_alter_table("conversation") as table:
        table.drop_column("version")
