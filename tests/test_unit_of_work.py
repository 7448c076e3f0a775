"""One update, one transaction: whatever single Bot API call fails, nothing is lost or doubled."""

import asyncio
import time

import pytest
from sqlmodel import Session

from storage.models import ProcessedUpdate
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import settled, walk_intake

RISKY = "Honestly I keep thinking I want to end my life."


def sent_calls(tg) -> int:
    return tg._tracked_calls


async def test_one_intake_walked_without_faults_makes_the_calls_the_fault_tests_count(tg, db_url):
    async with running_bot(tg, db_url) as store:
        ana = tg.user(8000, language_code="en")
        before = sent_calls(tg)
        await walk_intake(tg, store, ana)
        # Each update answers its button, replies and takes the old keyboard away; the booking
        # adds the staff notice. If this drops, the fault tests below cover fewer steps.
        assert sent_calls(tg) - before >= 40
        [booking] = store.bookings_of(8000)
        assert booking.ref in ana.last().text and ana.last().document is not None


@pytest.mark.parametrize(("status", "retry_after"), [(502, None), (429, 1)])
async def test_a_failed_call_at_any_step_still_ends_in_one_booking_one_notice_and_every_reply(
    tg, db_url, status, retry_after
):
    tg.quiet_period = 0.02
    async with running_bot(tg, db_url) as store:
        reference = tg.user(8100, language_code="en")
        before = sent_calls(tg)
        await walk_intake(tg, store, reference)
        calls = sent_calls(tg) - before
        expected = [m.text for m in reference.messages]
        for step in range(1, calls + 1):
            client = tg.user(8100 + step, language_code="en")
            tg.fail_call(step, status, retry_after=retry_after)
            await walk_intake(tg, store, client)
            [booking] = store.bookings_of(client.chat_id)
            notices = [m for m in tg.messages_for(STAFF_CHAT) if booking.ref in m.text]
            assert len(notices) == 1, f"call {step}: {len(notices)} staff notices"
            assert len(client.messages) == len(expected), f"call {step}: a message is missing"
            confirmation = client.last()
            assert booking.ref in confirmation.text and confirmation.document is not None
            assert not any("went wrong" in m.text for m in client.messages)
        failed = [e for e in tg.errors if e[1] == status]
        assert len(failed) == calls  # every step met its fault, and each was retried


async def test_a_crisis_alert_reaches_the_staff_once_whichever_call_fails(tg, db_url):
    tg.quiet_period = 0.02
    async with running_bot(tg, db_url) as store:

        async def alert_run(user_id: int, fault_at: int | None) -> tuple[object, int]:
            client = tg.user(user_id, first_name=f"Client{user_id}", language_code="en")
            await walk_intake(tg, store, client, until="reason")
            before = sent_calls(tg)
            if fault_at:
                tg.fail_call(fault_at, 502)
            client.push_text(RISKY)
            await settled(tg, store)
            return client, sent_calls(tg) - before

        _client, calls = await alert_run(8300, None)
        assert calls >= 3  # guidance, the question to go on, the alert
        for step in range(1, calls + 1):
            client, _calls = await alert_run(8300 + step, step)
            alerts = [m for m in tg.messages_for(STAFF_CHAT) if f"Client{client.chat_id}" in m.text]
            assert len(alerts) == 1, f"call {step}: {len(alerts)} alerts"
            assert "СПЕШНО" in alerts[0].text
            texts = [m.text for m in client.messages]
            assert any("112" in text for text in texts), f"call {step}: no guidance"
            assert "Would you like to go on" in texts[-1] or client.last().button_data()


async def test_a_staff_group_that_refuses_for_a_while_then_gets_every_alert_and_notice_once(
    tg, db_url
):
    async with running_bot(tg, db_url) as store:
        tg.refuse_chat(STAFF_CHAT)
        ana = tg.user(8401, first_name="Ana", language_code="en")
        await walk_intake(tg, store, ana, until="reason", own=True)
        ana.push_text(RISKY)
        ivo = tg.user(8402, first_name="Ivo", language_code="en")
        await walk_intake(tg, store, ivo, own=True)  # the client's side never waits for it
        assert "is held for you" in ivo.last().text
        assert tg.messages_for(STAFF_CHAT) == []  # nothing got through yet
        assert store.outbox_backlog(STAFF_CHAT) == 2  # the alert and the notice wait
        await asyncio.sleep(2)  # refused again meanwhile: still kept
        assert store.outbox_backlog(STAFF_CHAT) == 2
        tg.heal()
        await settled(tg, store, timeout=90)
        staff = tg.messages_for(STAFF_CHAT)
        [booking] = store.bookings_of(8402)
        assert len(staff) == 2
        assert "СПЕШНО" in staff[0].text and "Ana" in staff[0].text  # the alert went first
        assert booking.ref in staff[1].text


async def test_a_flooded_foreign_group_does_not_delay_a_clients_reply(tg, db_url):
    async with running_bot(tg, db_url) as store:
        strangers = tg.group(-100777, "Strangers")
        for n in range(3):
            tg.user(8500 + n, language_code="en")
        for n in range(26):
            tg.push_update({"message": tg._text_message(strangers.chat_id, 8500 + n % 3, "/help")})
        await asyncio.sleep(0.3)  # the group's replies now wait at 20 a minute
        client = tg.user(8600, language_code="en")
        started = time.monotonic()
        client.push_text("/start")
        while not client.messages:
            assert time.monotonic() - started < 1.0, "the client waited behind the group"
            await asyncio.sleep(0.01)
        assert client.last().button_data() == ["lang:bg", "lang:en"]
        assert len(tg.messages_for(strangers.chat_id)) < 26
        assert store.outbox_backlog() > 0  # the rest waits for the group, not for the client


async def test_an_update_that_fails_three_times_is_recorded_and_the_next_client_is_served(
    tg, db_url
):
    async with running_bot(tg, db_url) as store:
        broken = tg.user(8701, language_code="en")
        await walk_intake(tg, store, broken, until="age")
        # A state this version cannot read (as after a faulty upgrade): every attempt fails.
        state = store.load_conversation(8701) | {"step": "time", "answers": {"day": "garbled"}}
        store.save_conversation(user_id=8701, chat_id=8701, state=state)
        seen = len(broken.messages)
        update_id = broken.push_text("1")
        other = tg.user(8702, language_code="en")
        other.push_text("/start")
        await settled(tg, store)
        assert [m.text for m in broken.messages[seen:]] == [
            "Sorry, something went wrong on our side. Your answers are safe; please try again "
            "in a moment."
        ]
        assert other.messages and other.last().button_data() == ["lang:bg", "lang:en"]
        with Session(store.engine) as session:
            row = session.get(ProcessedUpdate, update_id)
        assert row.failed == "ValueError"  # its id and the error's type, nothing of its content
