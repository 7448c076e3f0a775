"""The real python-telegram-bot Application against a fake Bot API server over HTTP."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from tests.harness import STAFF_CHAT, running_bot


async def test_full_english_intake_with_language_switch_invalid_answers_and_an_edit(tg, db_url):
    async with running_bot(tg, db_url) as store:
        ana = tg.user(5001, first_name="Ana", language_code="bg")
        [greeting] = await ana.send("/start")
        assert "Здравейте" in greeting.text
        assert greeting.buttons() == ["✓ Български", "English"]
        await ana.click("English")
        assert "privacy" in ana.last().text
        await ana.click("I agree")
        replies = await ana.send("WRONG")
        assert "couldn't find an active organization" in replies[0].text
        await ana.send("acme")
        await ana.send("/language")
        await ana.click("Български")
        assert "Как се казвате?" in ana.last().text  # the same question, now in Bulgarian
        await ana.send("/language")
        await ana.click("English")
        assert "What is your first and last name?" in ana.last().text
        await ana.send("Ana Georgieva")
        await ana.click("Woman")
        await ana.send("thirty")
        assert "whole number" in ana.messages[-2].text and "How old" in ana.last().text
        await ana.send("31")
        assert ana.last().keyboard() == ["📱 Share my phone number", "‹ Back"]
        await ana.share_contact("359887000111")
        assert "e-mail" in ana.last().text
        assert ana.messages[-2].reply_markup == {"remove_keyboard": True}  # "noted +359..."
        await ana.send("ana@example.com")
        await ana.send("Sofia")
        await ana.send("Work stress has been keeping me awake at night.")
        await ana.click("Video")
        await ana.click("Bulgarian")
        await ana.click(ana.last().button_data()[0])  # the first day with free slots
        assert ana.last().button_data()[0].startswith("time:")
        await ana.click(ana.last().button_data()[0])
        await ana.click("No")
        await ana.click("Skip")
        summary = ana.last().text
        assert "Please check your answers" in summary and "+359887000111" in summary
        await ana.click("✏️ E-mail")
        await ana.send("ana.g@example.com")
        assert "E-mail: ana.g@example.com" in ana.last().text
        await ana.click("✅ Confirm")
        confirmation = ana.last().text
        assert "The time is held for you" in confirmation
        [booking] = store.bookings_of(5001)
        assert booking.ref in confirmation
        [staff] = tg.messages_for(STAFF_CHAT)
        for expected in (
            booking.ref,
            "Acme Ltd",
            "Ana Georgieva",
            "+359887000111",
            "ana.g@example.com",
            "Видео",
        ):
            assert expected in staff.text
        assert "Work stress" not in staff.text
        # Every pressed message lost its keyboard, so old buttons cannot be pressed by mistake.
        assert not tg.unanswered_callback_queries()
        assert {c["language_code"] for c in tg.calls_to("setMyCommands")} == {"bg", "en"}


async def test_stale_and_forged_buttons_are_answered_sensibly(tg, db_url):
    async with running_bot(tg, db_url):
        ivo = tg.user(5002, language_code="en")
        [greeting] = await ivo.send("/start")
        await ivo.click("lang:en")
        await ivo.click("I agree")
        for data in ("gender:woman", "book:confirm", "edit:name", "\u0000garbage"):
            replies = await ivo.press(greeting, data)
            assert "earlier question" in replies[0].text
            assert "organization code" in replies[-1].text
        assert not tg.errors


async def test_photos_and_stickers_get_a_kind_answer(tg, db_url):
    async with running_bot(tg, db_url):
        eva = tg.user(5003, language_code="bg")
        await eva.send("/start")
        await eva.click("lang:bg")
        await eva.click("consent:yes")
        replies = await eva.send_photo()
        assert "само текстови съобщения" in replies[0].text
        assert "кодът на Вашата организация" in replies[-1].text
        replies = await eva.send_sticker()  # it may be all they can send: where help is
        assert "напишете" in replies[0].text and "112" in replies[0].text
        assert "кодът на Вашата организация" in replies[-1].text


async def test_group_chat_is_pointed_to_a_private_chat_and_never_runs_the_intake(tg, db_url):
    async with running_bot(tg, db_url) as store:
        group = tg.group(-100555)
        replies = await group.send(5004, "/start")
        assert "private chat" in replies[0].text or "личен чат" in replies[0].text
        assert "@intake_test_bot" in replies[0].text
        assert store.load_conversation(5004) is None
        assert await group.send(5004, "hello everyone") == []


async def test_two_clients_picking_the_same_time_at_once(tg, db_url):
    """Both press the same time before the bot reads either: one holds it, one is offered
    the nearest free times; both end up booked, at different times."""
    async with running_bot(tg, db_url) as store:
        clients = [tg.user(6001, language_code="en"), tg.user(6002, language_code="en")]
        for who in clients:
            await who.send("/start")
            await who.click("lang:en")
            await who.click("I agree")
            for answer in ("acme", "Test Person"):
                await who.send(answer)
            await who.click("Man")
            for answer in (
                "40",
                "0888 000 111",
                "t@example.com",
                "Ruse",
                "I would like to talk about my family.",
            ):
                await who.send(answer)
            await who.click("Phone")
            await who.click("English")
            await who.click(who.last().button_data()[0])
        wanted = clients[0].last().button_data()[0]
        assert wanted == clients[1].last().button_data()[0]
        for who in clients:
            sent, _button = tg._find_button(who.chat_id, wanted)
            tg.push_update(tg._callback_query(who.id, sent, wanted))
        await tg.wait_idle()
        texts = ["\n".join(m.text for m in who.messages[-2:]) for who in clients]
        lost = ["no longer free" in t or "nearest free times" in t for t in texts]
        assert sorted(lost) == [False, True]
        assert any("psychotherapy or counselling before" in t for t in texts)
        loser = clients[lost.index(True)]
        assert wanted not in loser.last().button_data()
        await loser.click(loser.last().button_data()[0])
        for who in clients:
            await who.click("Skip")
            await who.click("Skip")
            await who.click("book:confirm")
            assert "The time is held for you" in who.last().text
        starts = [store.bookings_of(who.id)[0].start for who in clients]
        assert starts[0] != starts[1]
        assert len(tg.messages_for(STAFF_CHAT)) == 2


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "terminated"])
async def test_bot_process_stopped_mid_intake_resumes_where_the_client_was(tg, tmp_path, stop):
    """`intake-bot run` as a real process: kill it mid-intake, start it again, finish."""
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DATA_KEY_FILE": str(tmp_path / "bot.key"),
    }
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*cli, "org", "add", "ACME", "Acme Ltd"], env=env, check=True, capture_output=True
    )

    async def start_bot() -> subprocess.Popen:
        before = len(tg.calls_to("getUpdates"))
        process = subprocess.Popen([*cli, "run"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(1000):
            if len(tg.calls_to("getUpdates")) > before:
                return process
            await asyncio.sleep(0.01)
        process.kill()
        raise AssertionError(process.stderr.read())

    bot = await start_bot()
    mila = tg.user(7001, language_code="bg")
    await mila.send("/start", min_messages=1)
    await mila.click("lang:bg", min_messages=1)
    await mila.click("consent:yes", min_messages=1)
    await mila.send("acme", min_messages=1)
    await mila.send("Мила Петрова", min_messages=1)
    bot.send_signal(stop)  # SIGKILL is the worst case: no chance to save anything more
    code = await asyncio.to_thread(bot.wait, 10)
    assert code == (0 if stop == signal.SIGTERM else -signal.SIGKILL)

    bot = await start_bot()
    replies = await mila.send("/start", min_messages=2)
    assert "Добре дошли отново" in replies[0].text
    assert "Какъв е Вашият пол?" in replies[-1].text
    await mila.click("Жена", min_messages=1)
    for answer in (
        "29",
        "0899 111 222",
        "mila@example.bg",
        "Бургас",
        "Трудно ми е след раздяла и искам подкрепа.",
    ):
        await mila.send(answer, min_messages=1)
    await mila.click("Чат", min_messages=1)
    await mila.click("Български", min_messages=1)
    await mila.click(mila.last().button_data()[0], min_messages=1)
    await mila.click(mila.last().button_data()[0], min_messages=1)
    await mila.click("Да", min_messages=1)
    await mila.send("Предпочитам следобед.", min_messages=1)
    assert "Име и фамилия: Мила Петрова" in mila.last().text
    await mila.click("book:confirm", min_messages=1)
    assert "Часът е запазен за Вас" in mila.last().text
    await tg.wait_sent(len(tg.sent))
    [staff] = tg.messages_for(STAFF_CHAT)
    assert "Мила Петрова" in staff.text and "Предпочитам" not in staff.text
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(15) == 0
    assert tg.token not in bot.stderr.read()  # the token never reaches the log
