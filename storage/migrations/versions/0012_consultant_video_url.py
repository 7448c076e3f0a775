"""consultant: a video room link, sent to clients of video consultations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A store adopted from create_all (storage/migrate.py) was made with it already.
    inspector = sa.inspect(op.get_bind())
    if "video_url" in {c["name"] for c in inspector.get_columns("consultant")}:
        return
    with op.batch_alter_table("consultant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consultant", schema=None) as batch_op:
        batch_op.drop_column("video_url")
