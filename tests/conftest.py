"""Shared fixtures: a store on a fresh SQLite file (or PostgreSQL database) and the engine.

With INTAKE_TEST_DATABASE=postgresql (`make test-postgres`), `db_url` and so every store made
from it is a fresh PostgreSQL database instead of a SQLite file.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from storage import Schedule, Store, open_database
from storage.crypto import Cipher, generate_key
from tests import postgres
from tests.driver import EngineClient
from tests.fake_telegram import FakeTelegram
from tests.harness import fresh_postgres_database

# A Monday morning in Sofia (UTC+2): with 12 h notice the first free slot is Tuesday 08:00.
MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CIPHER = Cipher.from_text(generate_key())
TEST_DATABASE = os.environ.get("INTAKE_TEST_DATABASE", "sqlite")
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"INTAKE_TEST_DATABASE={TEST_DATABASE!r}: use sqlite or postgresql")


@pytest.fixture(scope="session")
def texts() -> Texts:
    return Texts()


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    """The store's database: a SQLite file, or PostgreSQL with INTAKE_TEST_DATABASE=postgresql."""
    if TEST_DATABASE == "postgresql":
        with _postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'intake.db'}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file whatever INTAKE_TEST_DATABASE says, for tests that read the file itself."""
    return f"sqlite:///{tmp_path / 'intake.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throw-away database on the tests' PostgreSQL server (tests/postgres.py)."""
    with _postgres_database() as url:
        yield url


def _postgres_database():
    return fresh_postgres_database(postgres.server_url())


@pytest.fixture
def store(db_url) -> Store:
    store = Store(open_database(db_url), Schedule(), CIPHER, clock=lambda: MONDAY)
    store.add_org(code="ACME", name="Acme Ltd")
    return store


@pytest.fixture
def engine(store, texts) -> IntakeEngine:
    return IntakeEngine(store, texts)


@pytest.fixture
def client(engine) -> EngineClient:
    return EngineClient(engine, user_id=1001)


@pytest.fixture
async def tg():
    """A fake Telegram Bot API server on 127.0.0.1."""
    async with FakeTelegram(quiet_period=0.08) as fake:
        yield fake
