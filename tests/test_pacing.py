"""Telegram's limits, kept by the sender as Telegram states them (bot/pacing.py), over HTTP."""

import asyncio
import time

from bot.effects import LATER, NOTICE, NOW
from tests.harness import STAFF_CHAT, running_bot


async def sent_within(tg, chats: list[int], seconds: float) -> float:
    """Seconds until every chat in `chats` has a message; fails after `seconds`."""
    began = time.monotonic()
    while not all(tg.messages_for(chat) for chat in chats):
        assert time.monotonic() - began < seconds, "not all sent in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - began


def queue(tg, store, chats: list[int], priority: int, text: str = "Hello") -> None:
    for chat in chats:
        store.enqueue(chat_id=chat, payload={"text": text, "reply_markup": None}, priority=priority)
    tg.front.sender.wake()


async def test_replies_are_not_paced_whatever_the_rate(tg, db_url):
    async with running_bot(tg, db_url, telegram_max_rate=5) as store:
        replies = list(range(9000, 9040))
        queue(tg, store, replies, NOW)
        assert await sent_within(tg, replies, 20) < 4  # paced at 5 a second: 8 s

        reminders = list(range(9100, 9111))
        queue(tg, store, reminders, LATER)
        assert await sent_within(tg, reminders, 20) >= 1.9  # but these are: 10 gaps of 0.2 s


async def test_25_bot_initiated_messages_to_25_chats_take_about_a_second(tg, db_url):
    async with running_bot(tg, db_url) as store:  # TELEGRAM_MAX_RATE at its default, 30
        reminders = list(range(9100, 9125))
        queue(tg, store, reminders, LATER)
        took = await sent_within(tg, reminders, 10)
        assert 0.78 <= took <= 2.5  # 24 gaps of 1/30 s: not all at once


async def test_a_groups_21st_message_in_a_minute_waits(tg, db_url):
    async with running_bot(tg, db_url) as store:
        for n in range(21):
            store.enqueue(
                chat_id=STAFF_CHAT, payload={"text": f"notice {n}", "reply_markup": None},
                priority=NOTICE,
            )  # fmt: skip
        tg.front.sender.wake()
        for _ in range(500):
            if len(tg.messages_for(STAFF_CHAT)) == 20:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)
        assert [m.text for m in tg.messages_for(STAFF_CHAT)] == [f"notice {n}" for n in range(20)]
        assert store.counts()["outbox_backlog"] == 1  # waiting its turn, not lost
        others = [9200, 9201]
        queue(tg, store, others, NOTICE)  # the group's wait holds nobody else
        assert await sent_within(tg, others, 2) < 1


async def test_a_429_to_one_chat_does_not_delay_another(tg, db_url):
    async with running_bot(tg, db_url) as store:
        tg.fail_next("sendMessage", 429, retry_after=3)
        queue(tg, store, [9300], NOTICE, "to the chat told to wait")
        while not any(error[1] == 429 for error in tg.errors):
            await asyncio.sleep(0.01)
        queue(tg, store, [9301], NOTICE, "to another chat")
        assert await sent_within(tg, [9301], 2) < 1
        assert tg.messages_for(9300) == []  # still waiting its retry_after
        assert await sent_within(tg, [9300], 6) > 1.5
