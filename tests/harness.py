"""Run the real bot in-process against the fake Bot API, as the end-to-end tests do."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import create_engine, make_url, text

from bot.config import Settings
from bot.flood import FloodGuard
from bot.polling import build_application, serve_polling
from bot.telegram import TelegramFront
from bot.wiring import build_engine
from storage.crypto import generate_key
from tests.fake_telegram import FakeTelegram

STAFF_CHAT = -1001234567890  # a real supergroup id: more than 32 bits
TEST_KEY = generate_key()


def settings_for(tg: FakeTelegram, db_url: str, **extra: object) -> Settings:
    return Settings(
        _env_file=None,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        staff_chat_id=STAFF_CHAT,
        database_url=db_url,
        **{"intake_data_key": TEST_KEY, **extra},
    )


@asynccontextmanager
async def running_bot(tg: FakeTelegram, db_url: str, **extra: object):
    """The bot polling the fake in this process; yields its store."""
    settings = settings_for(tg, db_url, **extra)
    store, engine, texts = build_engine(settings)
    if not store.find_active_org("ACME"):
        store.add_org(code="ACME", name="Acme Ltd")
    # Flood control is off unless a test asks for it: the tests type faster than people do.
    flood = FloodGuard(settings.flood_limit_per_minute if "flood_limit_per_minute" in extra else 0)
    front = TelegramFront(
        engine, texts, STAFF_CHAT, flood=flood, max_rate=settings.telegram_max_rate
    )
    tg.front = front  # for tests that run a job by hand
    app = build_application(front, tg.token, tg.base_url)
    tg.watch(app)
    tg.watch_busy(front.sender.busy)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_polling(app, front, stop))
    while not tg.calls_to("getUpdates"):
        await asyncio.sleep(0.01)
    try:
        yield store
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@contextmanager
def fresh_postgres_database(server_url: str, prefix: str = "intake_test") -> Iterator[str]:
    """A new, empty database on the server of `server_url`; dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
