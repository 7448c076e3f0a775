"""Bring a database's schema to the newest Alembic revision, safely from several processes."""

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only when a migration runs: the usual start finds the schema current and
# the bot then keeps about 11 MB less in memory (docs/benchmarks.md).

MIGRATIONS = Path(__file__).with_name("migrations")
INITIAL_REVISION = "0001"
# What the initial revision creates. Before migrations, every start ran create_all, which made
# these tables: all of them, or for a store from an older release only some.
INITIAL_TABLES = (
    "blockedchat",
    "booking",
    "consentrecord",
    "consultant",
    "conversation",
    "organization",
    "outboxmessage",
    "processedupdate",
    "reminder",
    "staffaccess",
    "timeoff",
    "waitlistentry",
)
# The PostgreSQL advisory lock held while migrating; any number that no other code uses.
_LOCK_KEY = int.from_bytes(b"intake")

log = logging.getLogger(__name__)


@cache
def head_revision() -> str:
    """The newest revision in storage/migrations/versions (read once per process)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "storage/migrations/versions holds no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's revision, or None when it has no alembic_version table."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def newest_revision_file() -> str:
    """The newest revision by its file name (NNNN_what.py, as `python -m storage.migrations`
    names them): the start-up check without loading Alembic. A test keeps it equal to Alembic's
    head."""
    return max(
        path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    )


def alembic_config(connection: Connection) -> "Config":
    """Alembic's configuration, built here: no alembic.ini, and env.py uses `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade_database(engine: Engine) -> None:
    """Migrate the database to the newest revision, unless it is there already."""
    with engine.connect() as connection:
        if current_revision(connection) == newest_revision_file():
            return  # the usual start: one cheap query, no lock, no Alembic
    from alembic import command

    with engine.connect() as connection:
        # SQLite: BEGIN IMMEDIATE (storage/db.py), the write lock taken now rather than at the
        # first write; another process waits for it for up to busy_timeout.
        connection.execution_options(sqlite_begin="IMMEDIATE")
        connection.begin()
        _lock(connection)
        # Another process may have migrated while this one waited for the lock.
        before = current_revision(connection)
        if before == head_revision():
            return
        if before is None and set(inspect(connection).get_table_names()) & set(INITIAL_TABLES):
            before = _adopt(connection)
        command.upgrade(alembic_config(connection), "head")
        connection.commit()
    if before != head_revision():
        log.info("database schema upgraded from %s to %s", before or "none", head_revision())


def _lock(connection: Connection) -> None:
    """Let one process at a time migrate; the lock ends with the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _adopt(connection: Connection) -> str:
    """Put a store made by create_all, before migrations, at the initial revision."""
    # Start-up used to create whatever tables were missing, so a store from an older release
    # may lack some of the initial ones: create them as it did, then record the revision.
    metadata = SQLModel.metadata
    tables = [metadata.tables[name] for name in INITIAL_TABLES if name in metadata.tables]
    metadata.create_all(connection, tables=tables)  # a table a later revision drops may be absent
    from alembic import command

    command.stamp(alembic_config(connection), INITIAL_REVISION)
    log.info("database made before migrations: recorded as revision %s", INITIAL_REVISION)
    return INITIAL_REVISION
