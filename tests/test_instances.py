"""Two bot processes in webhook mode on one PostgreSQL database serve the same client."""

import asyncio
import os
import signal
import subprocess
import sys
from contextlib import asynccontextmanager

import aiohttp

from dialogs.i18n import Texts
from storage import Schedule, Store, open_database
from storage.crypto import Cipher, generate_key
from tests.harness import STAFF_CHAT
from tests.test_webhook import PUBLIC_URL, SECRET, free_port


@asynccontextmanager
async def two_instances(tg, pg_url: str, tmp_path):
    """Two `intake-bot run --webhook` processes on one PostgreSQL database, both up; yields
    their ports and a store on the same database. Both must exit 0 on SIGTERM."""
    key = generate_key()
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": pg_url,
        "INTAKE_DATA_KEY": key,
        "WEBHOOK_URL": PUBLIC_URL,
        "WEBHOOK_SECRET": SECRET,
        "FLOOD_LIMIT_PER_MINUTE": "0",
    }
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*cli, "org", "add", "ACME", "Acme Ltd"], env=env, check=True, capture_output=True
    )
    ports = [free_port(), free_port()]
    bots = [
        subprocess.Popen(
            [*cli, "run", "--webhook"],
            env=env | {"WEBHOOK_PORT": str(port)},
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    store = Store(open_database(pg_url), Schedule(), Cipher.from_text(key))
    try:
        async with aiohttp.ClientSession() as http:
            for port in ports:  # both up: they answer /healthz
                for _ in range(300):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("an instance did not start")
        yield ports, store
    finally:
        store.engine.dispose()
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(bot.wait, 20) for bot in bots]
    assert codes == [0, 0], [bot.stderr.read()[-2000:] for bot in bots]


async def test_two_instances_alternating_one_clients_updates_lose_nothing_and_do_nothing_twice(
    tg, pg_url, tmp_path
):
    async with two_instances(tg, pg_url, tmp_path) as (ports, store):
        targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
        turn = iter(range(1000))

        def next_instance() -> None:
            tg.set_webhook_target(targets[next(turn) % 2])

        ana = tg.user(7_123_456_789, language_code="en")  # a 64-bit user id
        steps = [
            ("send", "/start"),
            ("click", "lang:en"),
            ("click", "consent:yes"),
            ("send", "acme"),
            ("send", "Ana Georgieva"),
            ("click", "gender:woman"),
            ("send", "37"),
            ("send", "0888 444 555"),
            ("send", "ana@example.com"),
            ("send", "Varna"),
            ("send", "I would like help with panic attacks."),
            ("click", "way:video"),
            ("click", "consult_lang:bg"),
            ("click", "day"),
            ("click", "time"),
            ("click", "skip:experience"),
            ("click", "skip:notes"),
            ("click", "book:confirm"),
        ]
        for action, value in steps:
            next_instance()
            if value in ("day", "time"):
                value = next(d for d in ana.last().button_data() if d.startswith(value + ":"))
            if action == "send":
                await ana.send(value, min_messages=1)
            else:
                await ana.click(value, min_messages=1)
        assert "is held for you" in ana.last().text
        # The confirmation update delivered once more, to the other instance: no second effect.
        before = len(ana.messages)
        tg.redeliver(tg._last_pushed)
        next_instance()
        await asyncio.sleep(1.0)
        assert len(ana.messages) == before
        [booking] = store.client_bookings(7_123_456_789)
        assert booking.answers["name"] == "Ana Georgieva" and booking.status == "pending"
        for _ in range(100):
            if tg.messages_for(STAFF_CHAT):
                break
            await asyncio.sleep(0.05)
        assert len(tg.messages_for(STAFF_CHAT)) == 1
        texts = "\n".join(m.text for m in ana.messages)
        for once in (
            "Which language",
            "organization code",
            "first and last name",
            "How old are you?",
            "e-mail address",
            "Which day suits you",
            "is held for you",
        ):
            assert texts.count(once) == 1, once  # every step answered once: nothing doubled
        assert set(booking.answers) >= {
            "org",
            "name",
            "gender",
            "age",
            "phone",
            "email",
            "city",
            "reason",
            "way",
            "consult_lang",
            "time",
        }


async def test_one_clients_two_answers_at_once_on_two_instances_are_both_kept(tg, pg_url, tmp_path):
    """Telegram may hand one client's updates to two instances at the same moment. Each
    reads the state, changes it and saves it: without a lock or a version check one of the
    two answers is silently lost."""
    async with (
        two_instances(tg, pg_url, tmp_path) as (ports, store),
        aiohttp.ClientSession() as http,
    ):

        async def deliver(port: int, update: dict) -> int:
            async with http.post(
                f"http://127.0.0.1:{port}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response:
                return response.status

        answered = {"org": "ACME", "name": "Ana Georgieva", "gender": "woman", "age": 37}
        for n in range(12):
            user_id = 7_200_000_000 + n
            tg.user(user_id, language_code="en")
            store.save_conversation(
                user_id=user_id,
                chat_id=user_id,
                state={
                    "lang": "en",
                    "step": "city",
                    "answers": answered,
                    "consent_version": Texts().notice_version(),
                },
            )
            city, reason = (
                {
                    "update_id": 50_000 + 2 * n + i,
                    "message": tg._text_message(user_id, user_id, text),
                }
                for i, text in enumerate(("Varna, by the sea", "Anxiety and bad sleep"))
            )
            statuses = await asyncio.gather(deliver(ports[0], city), deliver(ports[1], reason))
            assert statuses == [200, 200]
            state = store.load_conversation(user_id)
            # Applied one after the other, in either order (each fits both questions):
            # both answers are there.
            assert state["step"] == "way", (n, state["step"])
            assert {"city", "reason"} <= set(state["answers"]), (n, state["answers"])
