"""Alembic migrations of the database schema; run by `storage.db.open_database`."""
