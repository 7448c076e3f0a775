"""Webhook mode over HTTP: the real bot behind its own web server, fed by the fake Bot API."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlmodel import Session

from bot.cli import main
from bot.telegram import TelegramFront
from bot.webhook import (
    SECRET_HEADER,
    Metrics,
    StartError,
    build_webhook_application,
    serve_webhook,
)
from bot.wiring import build_engine
from storage.models import Booking
from tests.harness import STAFF_CHAT, settings_for

SECRET = "s3cr3t_Webhook-Token"
PUBLIC_URL = "https://bot.example.org/telegram"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def running_webhook(tg, db_url: str, port: int | None = None, **extra: object):
    """The bot serving its webhook in this process; yields its store and its local address."""
    settings = settings_for(
        tg,
        db_url,
        webhook_url=PUBLIC_URL,
        webhook_secret=SECRET,
        webhook_port=port or free_port(),
        **extra,
    )
    store, engine, texts = build_engine(settings)
    store.add_org(code="ACME", name="Acme Ltd")
    metrics = Metrics(store)
    front = TelegramFront(engine, texts, STAFF_CHAT)
    app = build_webhook_application(front, tg.token, tg.base_url, metrics)
    tg.watch(app)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_webhook(app, front, store, metrics, settings, stop))
    while not tg.calls_to("setWebhook"):
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.01)
    local = f"http://127.0.0.1:{settings.webhook_port}"
    # Telegram would post to PUBLIC_URL through the proxy; the fake posts here, with the secret
    # the bot registered.
    tg.set_webhook_target(local + settings.webhook_path)
    try:
        yield store, local
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def start_update(update_id: int, user_id: int) -> dict:
    """A /start from `user_id`, as Telegram posts it."""
    person = {"id": user_id, "first_name": "Eve", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {**person, "type": "private"},
            "from": {**person, "is_bot": False},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def scrape(http: ClientSession, local: str) -> tuple[set[str], list[Sample]]:
    """The metric family names and samples /metrics reports."""
    async with http.get(local + "/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        families = list(text_string_to_metric_families(await response.text()))
    return {f.name for f in families}, [s for f in families for s in f.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    return next(s.value for s in samples if s.name == name and s.labels == labels)


async def test_the_bot_registers_its_webhook_and_runs_the_intake_through_it(tg, db_url):
    async with running_webhook(tg, db_url) as (store, _local):
        [registered] = tg.calls_to("setWebhook")
        assert registered["url"] == PUBLIC_URL
        assert registered["secret_token"] == SECRET
        assert registered["allowed_updates"] == ["message", "edited_message", "callback_query"]
        assert registered["max_connections"] == 40
        assert {c["language_code"] for c in tg.calls_to("setMyCommands")} == {"bg", "en"}
        ana = tg.user(8001, language_code="en")
        [greeting] = await ana.send("/start")
        assert "lang:en" in greeting.button_data()
        await ana.click("lang:en")
        await ana.click("consent:yes")
        assert "organization code" in ana.last().text
        assert store.load_conversation(8001) is not None
        assert not tg.webhook_errors


async def test_a_post_without_the_right_secret_is_refused_and_changes_nothing(tg, db_url):
    async with running_webhook(tg, db_url) as (store, local), ClientSession() as http:
        tg.user(8002, language_code="en")
        for headers in (
            {},
            {SECRET_HEADER: ""},
            {SECRET_HEADER: "wrong"},
            {SECRET_HEADER: SECRET[:-1]},
            {SECRET_HEADER: SECRET + "x"},
            {SECRET_HEADER: SECRET.upper()},
        ):
            async with http.post(
                local + "/telegram", json=start_update(1, 8002), headers=headers
            ) as r:
                assert r.status == 403
        await asyncio.sleep(0.3)
        assert tg.sent == []
        assert store.load_conversation(8002) is None
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_updates_total") == 0
        # The same update with the secret is taken: the refusals were about the secret alone.
        async with http.post(
            local + "/telegram", json=start_update(1, 8002), headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
        [greeting] = await tg.wait_sent(1)
        assert greeting.chat_id == 8002


async def test_a_body_that_is_not_an_update_gets_400_and_the_bot_goes_on(tg, db_url):
    async with running_webhook(tg, db_url) as (_store, local), ClientSession() as http:
        for body in (b"{not json", b"", b"\xff\xfe", b"null", b"[1, 2]", b'{"message": {}}'):
            async with http.post(
                local + "/telegram",
                data=body,
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            ) as response:
                assert response.status == 400, body
        ana = tg.user(8003, language_code="en")
        [greeting] = await ana.send("/start")
        assert "lang:en" in greeting.button_data()


async def test_healthz_is_ok_while_the_database_answers_and_503_once_it_is_gone(tg, tmp_path):
    database = tmp_path / "intake.db"
    async with (
        running_webhook(tg, f"sqlite:///{database}") as (store, local),
        ClientSession() as http,
    ):
        async with http.get(local + "/healthz") as response:
            assert (response.status, await response.text()) == (200, "ok")
        store.engine.dispose()  # pooled connections would still reach the deleted file
        for file in tmp_path.glob("intake.db*"):
            file.unlink()
        database.mkdir()  # where the database was, now nothing SQLite can open
        async with http.get(local + "/healthz") as response:
            assert response.status == 503
        names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_database_up") == 0
        assert "intake_bot_intakes_in_progress" not in names
        assert "intake_bot_updates" in names  # the process's own metrics still come


async def test_metrics_count_updates_errors_and_time_and_read_the_database(tg, db_url):
    async with running_webhook(tg, db_url) as (store, local), ClientSession() as http:
        names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_updates_total") == 0
        assert value(samples, "intake_bot_update_errors_total") == 0
        assert value(samples, "intake_bot_database_up") == 1
        assert value(samples, "intake_bot_intakes_in_progress") == 0
        assert "intake_bot_bookings" in names

        ana = tg.user(8004, language_code="en")
        await ana.send("/start")
        await ana.click("lang:en")
        await ana.click("consent:yes")
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_updates_total") == 3
        assert value(samples, "intake_bot_update_seconds_count") == 3
        assert value(samples, "intake_bot_update_seconds_bucket", le="+Inf") == 3
        assert value(samples, "intake_bot_update_seconds_sum") > 0
        assert value(samples, "intake_bot_intakes_in_progress") == 1
        assert value(samples, "intake_bot_intakes_total", event="started") == 1
        assert value(samples, "intake_bot_outbox_backlog") == 0

        tg.fail_next("sendMessage", 500)  # the reply fails once: the outbox sends it again
        await ana.send("ACME", min_messages=1, timeout=15)
        assert "first and last name" in ana.last().text
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_update_errors_total") == 0  # the update was fine
        assert value(samples, "intake_bot_updates_total") == 4

        # A state this version cannot read: the update fails three times, then is let go.
        state = store.load_conversation(8004) | {"step": "time", "answers": {"day": "garbled"}}
        store.save_conversation(user_id=8004, chat_id=8004, state=state)
        await ana.send("1")
        assert "something went wrong" in ana.last().text
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_update_errors_total") == 3
        assert value(samples, "intake_bot_updates_total") == 5

        # A booking row as the store keeps one; the gauge counts rows by status at each scrape.
        with Session(store.engine) as session:
            session.add(
                Booking(
                    ref="TST234",
                    slot_start=datetime(2030, 1, 7, 9, tzinfo=UTC),
                    slot_minutes=60,
                    status="cancelled",
                    user_id=8004,
                    chat_id=8004,
                    org_code="ACME",
                    way="video",
                    consult_lang="en",
                    client_lang="en",
                    answers="sealed",
                )
            )
            session.commit()
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_bookings", status="cancelled") == 1


async def test_a_port_in_use_stops_the_start_with_a_clear_error(tg, db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(StartError, match=r"cannot listen on 127\.0\.0\.1:"):
            async with running_webhook(tg, db_url, port=taken.getsockname()[1]):
                pass


async def test_intake_bot_run_webhook_finishes_accepted_updates_on_sigterm_and_exits_0(
    tg, tmp_path
):
    """`intake-bot run --webhook` as a real process, stopped as a service manager stops it."""
    port = free_port()
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DATA_KEY_FILE": str(tmp_path / "bot.key"),
        "WEBHOOK_URL": PUBLIC_URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
    }
    tg.set_webhook_target(f"http://127.0.0.1:{port}/telegram")
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--webhook"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(1500):
            if tg.calls_to("setWebhook") or bot.poll() is not None:
                break
            await asyncio.sleep(0.01)
        assert tg.calls_to("setWebhook"), bot.stderr.read() if bot.poll() is not None else ""
        mila = tg.user(8005, language_code="bg")
        [greeting] = await mila.send("/start", min_messages=1)
        assert "lang:bg" in greeting.button_data()

        # SIGTERM right after the bot accepted an update: it answers it before exiting.
        update_id = tg.push_update(tg._callback_query(mila.id, greeting, "lang:bg"))
        while update_id not in tg._confirmed_at:
            await asyncio.sleep(0.005)
        bot.send_signal(signal.SIGTERM)
        # Waiting off the event loop: the fake Bot API must go on answering the bot meanwhile.
        assert await asyncio.to_thread(bot.wait, 15) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    assert len(mila.messages) >= 2
    log = bot.stderr.read()
    assert tg.token not in log and SECRET not in log


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"WEBHOOK_URL": "http://bot.example.org/telegram"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example.org:8080/telegram"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "bot.example.org"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "changeme"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "CHANGE_ME"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "has spaces in it"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "x"}, "WEBHOOK_SECRET"),  # guessable
        ({"WEBHOOK_SECRET": "Short_Secret-15"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_LISTEN": "my laptop"}, "WEBHOOK_LISTEN"),
        ({"WEBHOOK_PORT": "0"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PATH": "telegram"}, "WEBHOOK_PATH"),
        ({"WEBHOOK_PATH": "/metrics"}, "WEBHOOK_PATH"),
        ({"WEBHOOK_MAX_CONNECTIONS": "101"}, "WEBHOOK_MAX_CONNECTIONS"),
        ({"WEBHOOK_MAX_CONNECTIONS": "0"}, "WEBHOOK_MAX_CONNECTIONS"),
    ],
)
def test_a_malformed_webhook_setting_is_one_clear_line_and_exit_2(
    monkeypatch, tmp_path, capsys, env, setting
):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, text in env.items():
        monkeypatch.setenv(name, text)
    assert main(["run", "--webhook"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"intake-bot: setting {setting}:")


@pytest.mark.parametrize("missing", ["WEBHOOK_URL", "WEBHOOK_SECRET"])
def test_run_webhook_without_its_url_or_secret_says_which_and_exits_2(
    monkeypatch, tmp_path, capsys, missing
):
    monkeypatch.chdir(tmp_path)
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "STAFF_CHAT_ID": "-100",
        "WEBHOOK_URL": PUBLIC_URL,
        "WEBHOOK_SECRET": SECRET,
    }
    del env[missing]
    monkeypatch.delenv(missing, raising=False)
    for name, text in env.items():
        monkeypatch.setenv(name, text)
    assert main(["run", "--webhook"]) == 2
    assert (
        capsys.readouterr().err.strip() == f"intake-bot: setting {missing} is missing (see README)"
    )


async def test_an_update_that_cannot_be_stored_gets_503_and_is_handled_once_redelivered(
    tg, tmp_path
):
    """The webhook answers 200 only after the update's transaction committed: while the
    database is away Telegram is told to deliver it again, and nothing of it is lost."""
    database = tmp_path / "intake.db"
    async with running_webhook(tg, f"sqlite:///{database}") as (store, _local):
        ana = tg.user(8801, language_code="en")
        await ana.send("/start")
        store.engine.dispose()
        away = {file: file.with_name("away-" + file.name) for file in tmp_path.glob("intake.db*")}
        for file, moved in away.items():
            file.rename(moved)
        database.mkdir()  # where the database was, now nothing SQLite can open
        update_id = tg.push_update(tg._callback_query(8801, ana.last(), "lang:en"))
        for _ in range(200):
            if any("HTTP 503" in error for error in tg.webhook_errors):
                break
            await asyncio.sleep(0.02)
        assert any("HTTP 503" in error for error in tg.webhook_errors)
        assert update_id not in tg._confirmed_at  # not acknowledged: Telegram keeps it
        database.rmdir()
        for file, moved in away.items():
            moved.rename(file)
        await tg.wait_processed(update_id, timeout=20, chat_id=8801, min_messages=1, since=1)
        assert "privacy" in ana.last().text  # the language was taken: the consent question
        assert store.load_conversation(8801)["step"] == "consent"


async def test_metrics_count_risks_and_taken_alerts_without_naming_anyone(tg, db_url):
    async with (
        running_webhook(tg, db_url, staff_user_ids=(7201,)) as (_store, local),
        ClientSession() as http,
    ):
        eva = tg.user(8011, first_name="Eva", language_code="en")
        await eva.send("I have been saving my pills and tonight is the night")
        tg.user(7201, first_name="Maria")
        await tg.group(STAFF_CHAT).click(7201, "alert:take:1")
        _names, samples = await scrape(http, local)
        assert value(samples, "intake_bot_risks_seen_total", category="suicide") == 1
        assert value(samples, "intake_bot_crisis_alerts_total", event="taken") == 1
        assert value(samples, "intake_bot_crisis_alert_seconds_to_take_count") == 1
        assert not any("8011" in str(s.labels) or "Eva" in str(s.labels) for s in samples)
