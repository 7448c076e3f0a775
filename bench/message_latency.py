"""How long the bot takes per message in a full intake: engine alone, and over HTTP.

Usage: .venv/bin/python -m bench.message_latency [--intakes N]

The engine figure is `IntakeEngine.handle` per input on SQLite (state load + save included).
The Telegram figure is from the moment an update is available in the fake Bot API to the moment
the bot's last reply to it has arrived, with the real python-telegram-bot Application polling.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.polling import build_application, serve_polling
from bot.telegram import TelegramFront
from bot.wiring import build_engine
from dialogs.messages import Input
from storage.crypto import generate_key
from tests.fake_telegram import FakeTelegram

STEPS = [
    ("command", "start"),
    ("choice", "lang:en"),
    ("choice", "consent:yes"),
    ("text", "acme"),
    ("text", "Maria Ivanova"),
    ("choice", "gender:woman"),
    ("text", "34"),
    ("text", "0888 123 456"),
    ("text", "maria@example.com"),
    ("text", "Sofia"),
    ("text", "I have been anxious for months."),
    ("choice", "way:video"),
    ("choice", "consult_lang:bg"),
    ("choice", "day"),
    ("choice", "time"),
    ("choice", "experience:no"),
    ("choice", "skip:notes"),
    ("choice", "book:confirm"),
]


def _resolve(kind: str, value: str, buttons: list[str]) -> tuple[str, str]:
    if value in ("day", "time"):
        return kind, next(b for b in buttons if b.startswith(value + ":") and b != "time:back")
    return kind, value


def _settings(database: Path) -> Settings:
    """A fresh SQLite store; a long horizon so that many intakes find free slots."""
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{database}",
        booking_horizon_days=60,
        intake_data_key=generate_key(),
    )


def engine_timings(workdir: Path, intakes: int) -> list[float]:
    settings = _settings(workdir / "engine.db")
    store, engine, _texts = build_engine(settings)
    store.add_org(code="ACME", name="Acme")
    timings = []
    for user in range(1, intakes + 1):
        buttons: list[str] = []
        for kind, value in STEPS:
            kind, value = _resolve(kind, value, buttons)
            began = time.perf_counter()
            out = engine.handle(user_id=user, chat_id=user, inp=Input(kind, value))
            timings.append(time.perf_counter() - began)
            buttons = [b.data for r in out.replies for row in r.buttons for b in row]
    return timings


async def telegram_timings(workdir: Path, intakes: int) -> list[float]:
    # The quiet period only decides when the next step may go; the figure is the first reply.
    async with FakeTelegram(quiet_period=0.05) as tg:
        settings = _settings(workdir / "tg.db")
        store, engine, texts = build_engine(settings)
        store.add_org(code="ACME", name="Acme")
        app = build_application(TelegramFront(engine, texts, -1), tg.token, tg.base_url)
        stop = asyncio.Event()
        task = asyncio.create_task(serve_polling(app, texts, stop))
        while not tg.calls_to("getUpdates"):
            await asyncio.sleep(0.01)
        timings = []
        for n in range(intakes):
            user = tg.user(10_000 + n, language_code="en")
            for kind, value in STEPS:
                offered = user.last().button_data() if user.messages else []
                kind, value = _resolve(kind, value, offered)
                before = len(user.messages)
                began = time.perf_counter()
                if kind == "choice":
                    sent, _ = tg._find_button(user.chat_id, value)
                    update_id = tg.push_update(tg._callback_query(user.id, sent, value))
                else:
                    update_id = user.push_text(f"/{value}" if kind == "command" else value)
                while len(user.messages) == before:
                    await asyncio.sleep(0.0005)
                timings.append(time.perf_counter() - began)
                await tg.wait_processed(update_id)
        stop.set()
        await task
        return timings


def _report(name: str, timings: list[float]) -> None:
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"{name}: {len(ms)} messages, median {statistics.median(ms):.2f} ms, "
        f"p95 {p95:.2f} ms, max {ms[-1]:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intakes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _report("engine per message", engine_timings(Path(tmp), args.intakes))
        _report(
            "telegram per message (to first reply)",
            asyncio.run(telegram_timings(Path(tmp), args.intakes)),
        )


if __name__ == "__main__":
    main()
