"""Schema migrations: they agree with the models, run at start and from the CLI, on both
databases, once, however many processes start together, and adopt stores made before them."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlmodel import SQLModel

from storage import open_database
from storage.migrate import (
    INITIAL_REVISION,
    INITIAL_TABLES,
    alembic_config,
    current_revision,
    head_revision,
    newest_revision_file,
)
from storage.models import OVERLAP_CONSTRAINT, Booking, Organization

CLI = [sys.executable, "-m", "bot.cli"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path) -> str:
    """An empty database of each kind, whatever INTAKE_TEST_DATABASE says."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("pg_url")


def differences(engine: Engine) -> list:
    """What autogenerate would write to make the database match the models."""
    with engine.connect() as connection:
        # compare_type=True: a column whose type differs from the model's shows up too. No
        # filter is needed: AutoString is compared as the VARCHAR it is, UTCDateTime as its
        # DateTime(timezone=True), so neither database reports type-representation noise.
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def _upgrade(url: str, revision: str = "head") -> Engine:
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
    return engine


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision(connection)


def test_migrations_to_head_give_exactly_the_models(any_url):
    engine = _upgrade(any_url)
    assert differences(engine) == []
    assert _revision(engine) == head_revision()
    engine.dispose()


def test_the_one_booking_per_slot_index_is_partial_on_both_databases(any_url):
    engine = _upgrade(any_url)
    [index] = [
        i for i in inspect(engine).get_indexes("booking") if i["name"] == "uq_booking_active_slot"
    ]
    assert index["unique"] and index["column_names"] == ["consultant_id", "slot_start"]
    where = index["dialect_options"][f"{engine.dialect.name}_where"]
    assert "confirmed" in str(where)
    engine.dispose()


def test_the_initial_revision_makes_the_tables_stores_made_before_migrations_have(any_url):
    engine = _upgrade(any_url, INITIAL_REVISION)
    assert set(inspect(engine).get_table_names()) == {*INITIAL_TABLES, "alembic_version"}
    engine.dispose()


def test_a_store_made_by_create_all_is_stamped_and_upgraded_keeping_its_data(db_url):
    engine = create_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(Organization.__table__.insert().values(code="ACME", name="Acme"))
        # A store from an older release, when start-up had not yet made this table.
        connection.execute(text("DROP TABLE processedupdate"))
    engine.dispose()

    engine = open_database(db_url)
    assert _revision(engine) == head_revision()
    assert differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT code FROM organization")).scalars().all() == ["ACME"]
    engine.dispose()


def test_open_database_on_a_store_at_head_changes_nothing(db_url):
    open_database(db_url).dispose()
    engine = open_database(db_url)
    assert _revision(engine) == head_revision()
    assert differences(engine) == []
    engine.dispose()


def _cli(tmp_path, url: str, *args: str) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [*CLI, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_db_upgrade_command_upgrades_once_and_then_does_nothing(tmp_path, db_url):
    first = _cli(tmp_path, db_url, "db", "upgrade")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert out.strip() == f"database schema at revision {head_revision()} (the newest)"
    assert f"database schema upgraded from none to {head_revision()}" in err

    again = _cli(tmp_path, db_url, "db", "upgrade")
    out_again, err_again = again.communicate(timeout=60)
    assert again.returncode == 0, err_again
    assert out_again == out
    assert "upgraded" not in err_again
    engine = create_engine(db_url)
    assert differences(engine) == []
    engine.dispose()


def test_processes_starting_together_on_an_empty_database_all_succeed(tmp_path, any_url):
    starts = [_cli(tmp_path, any_url, "db", "upgrade") for _ in range(4)]
    results = [(start.wait(timeout=60), start.stderr.read()) for start in starts]
    for start in starts:
        start.stdout.close()
        start.stderr.close()
    failed = [err for code, err in results if code != 0]
    assert not failed, "\n\n".join(failed)  # whole, so that a rare failure can be read
    assert sum("upgraded" in err for _code, err in results) == 1
    engine = create_engine(any_url)
    assert _revision(engine) == head_revision()
    engine.dispose()


def test_the_start_up_check_names_the_same_newest_revision_as_alembic():
    assert newest_revision_file() == head_revision()


def test_a_bot_start_on_a_current_schema_does_not_load_alembic(db_url):
    open_database(db_url).dispose()  # brings the schema to head
    check = (
        "import sys; from storage.db import open_database; "
        f"open_database({db_url!r}).dispose(); print('alembic' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_db_upgrade_is_in_the_help():
    result = subprocess.run([*CLI, "db", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "bring the schema of DATABASE_URL to the newest version" in result.stdout


def _overlap_constraint(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": OVERLAP_CONSTRAINT},
        ).scalar()


def test_postgresql_keeps_bookings_apart_whether_migrated_or_adopted(pg_url):
    migrated = _upgrade(pg_url)
    assert "EXCLUDE USING gist" in _overlap_constraint(migrated)
    migrated.dispose()
    adopted = create_engine(pg_url)
    with adopted.begin() as connection:  # as create_all made stores before migrations
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    SQLModel.metadata.create_all(adopted)
    adopted.dispose()
    adopted = open_database(pg_url)  # 0009 finds the constraint made by create_all
    assert "EXCLUDE USING gist" in _overlap_constraint(adopted)
    assert differences(adopted) == []
    adopted.dispose()


def test_the_overlap_constraint_is_not_added_over_bookings_that_overlap(pg_url):
    engine = _upgrade(pg_url, "0007")
    row = {"consultant_id": 1, "user_id": 1, "chat_id": 1, "org_code": "", "way": "video"}
    row |= {"consult_lang": "bg", "client_lang": "bg", "answers": "", "status": "pending"}
    with engine.begin() as connection:
        for ref, start, minutes in (("AAAAAA", "08:00", 110), ("BBBBBB", "09:00", 50)):
            connection.execute(
                Booking.__table__.insert().values(
                    ref=ref,
                    slot_start=datetime.fromisoformat(f"2026-11-24T{start}+02:00"),
                    slot_minutes=minutes,
                    created_at=datetime.now(UTC),
                    **row,
                )
            )
    with pytest.raises(RuntimeError, match="AAAAAA and BBBBBB"), engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert _revision(engine) == "0007" and _overlap_constraint(engine) is None  # nothing changed
    engine.dispose()
