"""Database statements, transactions and Bot API calls per update, counted exactly.

`python -m bench.statements [--intakes N] [--postgres URL]`: the real bot runs in this process
against the tests' fake Bot API, and N clients, one after the other, walk a complete intake
to a booking (tests/walk.py answers whatever is asked). The counts come from SQLAlchemy's
engine events on the bot's own engine; the walker reads through a second engine, not counted.
Timing is not the point here (see bench/load.py): the counts are the same on any machine.
"""

import argparse
import asyncio
import inspect
import tempfile
from pathlib import Path

from sqlalchemy import event

from bot.flood import FloodGuard
from bot.polling import build_application, serve_polling
from bot.telegram import TelegramFront
from bot.wiring import build_engine
from storage import Schedule, Store, open_database
from tests.fake_telegram import FakeTelegram
from tests.harness import STAFF_CHAT, fresh_postgres_database, settings_for
from tests.walk import settled, walk_intake


async def measure(url: str, intakes: int) -> dict:
    async with FakeTelegram(quiet_period=0.05) as tg:
        settings = settings_for(tg, url, flood_limit_per_minute=0)
        store, engine, texts = build_engine(settings)
        store.add_org(code="ACME", name="Acme Ltd")
        counts = {"statements": 0, "transactions": 0}

        def count(name: str):
            return lambda *_args, **_kwargs: counts.__setitem__(name, counts[name] + 1)

        event.listen(store.engine, "before_cursor_execute", count("statements"))
        event.listen(store.engine, "begin", count("transactions"))
        front = TelegramFront(engine, texts, STAFF_CHAT, flood=FloodGuard(0))
        app = build_application(front, tg.token, tg.base_url)
        tg.watch(app)
        reader = Store(open_database(url), Schedule(), settings.cipher())
        stop = asyncio.Event()
        second = texts if "texts" in inspect.signature(serve_polling).parameters else front
        task = asyncio.create_task(serve_polling(app, second, stop))
        while not tg.calls_to("getUpdates"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)  # start-up and the first rounds of the jobs
        counts = dict.fromkeys(counts, 0)
        calls, updates = tg._tracked_calls, tg._last_pushed or 0
        for n in range(intakes):
            await walk_intake(tg, reader, tg.user(20_000 + n, language_code="en"))
        await settled(tg, reader)
        result = {
            "updates": (tg._last_pushed or 0) - updates,
            "api_calls": tg._tracked_calls - calls,
            **counts,
        }
        stop.set()
        await asyncio.wait_for(task, 20)
        reader.engine.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__)
    parser.add_argument("--intakes", type=int, default=20, help="complete intakes (20)")
    parser.add_argument("--postgres", help="a PostgreSQL server URL; SQLite when not given")
    args = parser.parse_args()
    if args.postgres:
        with fresh_postgres_database(args.postgres, prefix="intake_bench") as url:
            result = asyncio.run(measure(url, args.intakes))
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = asyncio.run(measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.intakes))
    updates = result["updates"]
    print(f"{args.intakes} intakes, {updates} updates")
    for name in ("statements", "transactions", "api_calls"):
        print(f"{name} per update: {result[name] / updates:.2f} ({result[name]} in all)")


if __name__ == "__main__":
    main()
