"""booking: on PostgreSQL, active bookings of one calendar never overlap (exclusion constraint)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ex_booking_overlap"
# As in storage/models.py: the span in UTC wall time, because an index needs IMMUTABLE functions.
SPAN = (
    "tsrange(slot_start AT TIME ZONE 'UTC', "
    "(slot_start AT TIME ZONE 'UTC') + make_interval(mins => slot_minutes))"
)
ACTIVE = "status IN ('held', 'pending', 'confirmed')"


def upgrade() -> None:
    # On SQLite the check runs in the writing transaction (BEGIN IMMEDIATE): no schema change.
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    exists = sa.text("SELECT 1 FROM pg_constraint WHERE conname = :name")
    if bind.execute(exists, {"name": NAME}).first():
        return  # a store adopted from create_all (storage/migrate.py) was made with it already
    # A lapsed hold is nobody's booking; it would only stand in the way.
    op.execute("DELETE FROM booking WHERE status = 'held' AND expires_at <= now()")
    overlaps = bind.execute(
        sa.text(
            f"SELECT a.ref, b.ref FROM booking a JOIN booking b ON a.consultant_id = "
            f"b.consultant_id AND a.id < b.id AND {SPAN.replace('slot_', 'a.slot_')} && "
            f"{SPAN.replace('slot_', 'b.slot_')} WHERE a.{ACTIVE} AND b.{ACTIVE}"
        )
    ).all()
    if overlaps:
        pairs = ", ".join(f"{a} and {b}" for a, b in overlaps)
        raise RuntimeError(
            f"these bookings overlap with the same consultant: {pairs}. Nothing was changed: "
            "with the previous release, move or cancel one of each pair, then upgrade again."
        )
    op.execute(
        f"ALTER TABLE booking ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f"(consultant_id WITH =, ({SPAN}) WITH &&) WHERE ({ACTIVE})"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE booking DROP CONSTRAINT IF EXISTS {NAME}")
