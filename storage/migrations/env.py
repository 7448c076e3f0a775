"""Alembic's environment: runs on the connection `storage.db` hands over, never on an ini URL."""

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from storage import models  # noqa: F401  (registers the tables)


def render_item(kind: str, obj: object, _context: AutogenContext) -> str | bool:
    """Render SQLModel's column types as the plain SQLAlchemy types they store."""
    # Keeps the migrations free of sqlmodel imports: the database sees a VARCHAR and a
    # TIMESTAMP WITH TIME ZONE either way; the UTC conversion happens in Python.
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    # Batch operations are how SQLite alters a table (copy and move); on PostgreSQL they are
    # plain ALTERs, so one migration serves both.
    render_as_batch=True,
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
