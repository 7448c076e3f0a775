"""Database engine set-up for SQLite (default) and PostgreSQL."""

import sqlite3
import time

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlmodel import create_engine

from storage.migrate import upgrade_database


def open_database(url: str) -> Engine:
    """Create the engine for `url` and bring its schema to the newest migration."""
    # hide_parameters: SQL errors in the log never carry the values of a statement.
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, hide_parameters=True)
        _ping_when_idle(engine)
    upgrade_database(engine)
    return engine


IDLE_BEFORE_PING = 30.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle a while (the database may have
    restarted meanwhile). Pinging on every checkout, as pool_pre_ping does, cost a round trip per
    statement: an eighth of the bot's time on PostgreSQL (docs/benchmarks.md)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", time.monotonic()) < IDLE_BEFORE_PING:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as error:  # the pool throws this connection away and opens another
            raise DisconnectionError() from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, says BEGIN (see _sqlite_begin): the module's own
    # handling skips it before a SELECT or a SAVEPOINT, which breaks one transaction per update.
    dbapi_connection.isolation_level = None
    # WAL lets readers go on while a booking is written; busy_timeout makes writers queue.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # erased data does not linger in free pages
    cursor.close()


def _sqlite_begin(connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a unit of work: it takes the write lock before its first
    read, so two processes never both read a client's state and then both write it."""
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":  # one statement, its own transaction
        return
    connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', '')}".strip())


def _switch_to_wal(cursor, attempts: int = 100) -> None:
    """WAL mode is kept in the file, so only the first connection ever switches it. SQLite does
    not wait for the lock that switch needs: processes starting together on a new file retry."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:  # "database is locked": another process is switching
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
