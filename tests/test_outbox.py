"""Faults injected through the fake Bot API: nothing is lost, nothing is sent twice."""

import asyncio

from sqlmodel import Session, select

from storage.models import OutboxMessage
from tests.harness import STAFF_CHAT, running_bot
from tests.test_bookings import ELENA, book, up_to_the_day


async def book_after(tg, user_id: int, fault) -> object:
    """A full intake whose Confirm meets `fault` (a call to tg.fail_next) first."""
    client = tg.user(user_id, language_code="en")
    await up_to_the_day(client)
    await client.click(client.last().button_data()[0])
    await client.click(client.last().button_data()[0])
    await client.click("skip:experience")
    await client.click("skip:notes")
    fault()
    await client.click("book:confirm")
    return client


async def wait_for(condition, seconds: float = 8.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_retry_after_is_honoured_and_the_staff_message_arrives_once(tg, db_url):
    async with running_bot(tg, db_url) as store:
        vera = await book_after(
            tg, 7201, lambda: tg.fail_next("sendMessage", 429, "Too Many Requests", retry_after=1)
        )
        assert "is held for you" in vera.last().text  # the client is answered at once
        assert tg.messages_for(STAFF_CHAT) == []  # Telegram said: wait a second
        assert store.counts()["outbox_backlog"] == 1
        await wait_for(lambda: tg.messages_for(STAFF_CHAT))
        await asyncio.sleep(0.5)
        assert len(tg.messages_for(STAFF_CHAT)) == 1
        assert store.counts()["outbox_backlog"] == 0


async def test_5xx_and_network_errors_are_retried_until_telegram_takes_the_message(tg, db_url):
    async with running_bot(tg, db_url) as store:
        await book_after(tg, 7202, lambda: tg.fail_next("sendMessage", 502, "Bad Gateway", times=2))
        await wait_for(lambda: tg.messages_for(STAFF_CHAT), seconds=12)
        await asyncio.sleep(0.5)
        [notice] = tg.messages_for(STAFF_CHAT)
        assert store.bookings_of(7202)[0].ref in notice.text
        failed = [e for e in tg.errors if e[0] == "sendMessage" and e[1] == 502]
        assert len(failed) == 2


async def test_a_client_who_blocked_the_bot_is_dropped_and_does_not_stall_the_queue(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(ELENA,)) as store:
        vera = await book(tg, 7203)
        vera.block()
        await tg.group(STAFF_CHAT).click(ELENA, "✅ Потвърждавам")
        [first] = tg.messages_for(STAFF_CHAT)
        assert "Потвърдена" in first.text  # the staff edit went out
        with Session(store.engine) as session:
            failed = session.exec(
                select(OutboxMessage.chat_id, OutboxMessage.failed).where(
                    OutboxMessage.failed.is_not(None)
                )
            ).all()
        assert failed == [(7203, "blocked")]  # dropped, not retried
        await book(tg, 7204)  # the next booking's notice is not held up behind the blocked one
        assert len(tg.messages_for(STAFF_CHAT)) == 2
        assert store.counts()["outbox_backlog"] == 0


async def test_an_outage_across_a_restart_loses_nothing(tg, db_url):
    async with running_bot(tg, db_url) as store:
        await book_after(tg, 7205, lambda: tg.fail_next("sendMessage", 500, times=1000))
        assert store.counts()["outbox_backlog"] == 1
    tg.heal()  # Telegram is back
    async with running_bot(tg, db_url) as store:
        await wait_for(lambda: tg.messages_for(STAFF_CHAT), seconds=15)
        await asyncio.sleep(0.5)
        assert len(tg.messages_for(STAFF_CHAT)) == 1
        assert store.counts()["outbox_backlog"] == 0
