"""Database engine set-up for SQLite (default) and PostgreSQL."""

from sqlalchemy import Engine, event
from sqlmodel import create_engine

from storage.migrate import upgrade_database


def open_database(url: str) -> Engine:
    """Create the engine for `url` and bring its schema to the newest migration."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    # hide_parameters: SQL errors in the log never carry the values of a statement.
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    upgrade_database(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while a booking is written; busy_timeout makes writers queue.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # erased data does not linger in free pages
    cursor.close()
