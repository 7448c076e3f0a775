"""Database engine set-up for SQLite (default) and PostgreSQL."""

import sqlite3
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine, event, or_, update
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from storage.migrate import upgrade_database


def open_database(url: str) -> Engine:
    """Create the engine for `url` and bring its schema to the newest migration."""
    # hide_parameters: SQL errors in the log never carry the values of a statement.
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
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
    # WAL lets readers go on while a booking is written; busy_timeout makes writers queue.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # erased data does not linger in free pages
    cursor.close()


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


def claim(session: Session, table: type, row_id: int, now: datetime, lease: timedelta) -> bool:
    """Mark one unsent row of `table` as taken by this process, unless another holds it.

    One conditional UPDATE: of processes racing for the row, exactly one sees a row changed. A
    claim older than `lease` is taken as abandoned (its process died) and can be taken again.
    """
    won = session.execute(
        update(table)
        .where(
            table.id == row_id,
            table.sent_at.is_(None),
            or_(table.claimed_at.is_(None), table.claimed_at < now - lease),
        )
        .values(claimed_at=now)
    ).rowcount
    session.commit()
    return won == 1
