"""Pending has a clock: a request nobody in the staff group answers gets one reminder there
after STAFF_REMINDER_HOURS of opening hours, and once its time has come unconfirmed it is
closed as expired and the client is offered another time. Once each, whatever the instances."""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import BookingStatus, Schedule, Store, open_database
from storage.consultants import CLOSURE
from tests.conftest import CIPHER, MONDAY
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import settled, walk_intake

SOFIA = ZoneInfo("Europe/Sofia")
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=SOFIA)


def _request(store: Store, start: datetime = TUESDAY_10, user_id: int = 1) -> str:
    return store.book(
        hold_ref=None, start=start, user_id=user_id, chat_id=user_id, org_code="ACME",
        way="video", consult_lang="bg", client_lang="en",
        answers={"name": "Vera Petrova", "phone": "+359888123456"},
    ).ref  # fmt: skip


def _at(store: Store, moment: datetime) -> None:
    store.clock = lambda: moment


def test_the_staff_are_reminded_once_after_four_opening_hours(store):
    ref = _request(store)  # Monday 08:00 in Sofia, as the practice opens
    _at(store, MONDAY + timedelta(hours=3, minutes=59))
    assert store.take_unanswered_requests() == []
    _at(store, MONDAY + timedelta(hours=4))
    assert [b.ref for b in store.take_unanswered_requests()] == [ref]
    assert store.take_unanswered_requests() == []  # once, however often the job runs


def test_a_request_made_after_hours_is_reminded_of_the_next_working_morning(store):
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=SOFIA)
    _at(store, friday_evening)
    _request(store, start=datetime(2026, 11, 30, 14, 0, tzinfo=SOFIA))
    _at(store, datetime(2026, 11, 30, 10, 59, tzinfo=SOFIA))  # 1 h on Friday, 2 h 59 on Monday
    assert store.take_unanswered_requests() == []
    _at(store, datetime(2026, 11, 30, 11, 0, tzinfo=SOFIA))
    assert len(store.take_unanswered_requests()) == 1


def test_a_closure_does_not_count_as_waiting_time(store):
    # Closed Monday 09:00 to Tuesday 00:00: one hour on Monday, three on Tuesday morning.
    store.add_time_off(CLOSURE, MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=16))
    _request(store, start=datetime(2026, 11, 26, 10, 0, tzinfo=SOFIA))  # made Monday 08:00
    _at(store, datetime(2026, 11, 24, 10, 59, tzinfo=SOFIA))
    assert store.take_unanswered_requests() == []
    _at(store, datetime(2026, 11, 24, 11, 0, tzinfo=SOFIA))
    assert len(store.take_unanswered_requests()) == 1


def test_confirmed_and_lapsed_requests_get_no_reminder(store):
    confirmed = _request(store, user_id=1)
    _request(store, start=TUESDAY_10 + timedelta(hours=1), user_id=2)
    store.decide(ref=confirmed, action="confirm", staff_name="Elena", consultant_id=None)
    _at(store, TUESDAY_10 + timedelta(hours=2))  # both times have come
    assert store.take_unanswered_requests() == []  # the pending one is closed instead


def test_a_move_starts_the_clock_again(store):
    ref = _request(store)
    _at(store, MONDAY + timedelta(hours=4))
    assert len(store.take_unanswered_requests()) == 1
    store.reschedule(ref=ref, user_id=1, start=TUESDAY_10 + timedelta(hours=2))
    assert store.take_unanswered_requests() == []
    _at(store, MONDAY + timedelta(hours=8))
    assert [b.ref for b in store.take_unanswered_requests()] == [ref]


def test_a_request_whose_time_came_unconfirmed_expires_once_and_can_move(store):
    pending = _request(store, user_id=1)
    confirmed = _request(store, start=TUESDAY_10 + timedelta(hours=1), user_id=2)
    store.decide(ref=confirmed, action="confirm", staff_name="Elena", consultant_id=None)
    _at(store, TUESDAY_10 - timedelta(minutes=1))
    assert store.close_lapsed_requests() == []
    _at(store, TUESDAY_10 + timedelta(hours=3))
    [closed] = store.close_lapsed_requests()
    assert (closed.ref, closed.status) == (pending, BookingStatus.EXPIRED)
    assert store.close_lapsed_requests() == []
    assert store.booking(confirmed).status == BookingStatus.CONFIRMED
    moved = store.reschedule(ref=pending, user_id=1, start=datetime(2026, 11, 25, 10, tzinfo=SOFIA))
    assert moved.status == BookingStatus.PENDING


@pytest.mark.parametrize("take", ["take_unanswered_requests", "close_lapsed_requests"])
def test_two_instances_at_once_remind_or_close_a_request_once(db_url, take):
    sunday = MONDAY - timedelta(days=1)
    stores = [Store(open_database(db_url), Schedule(), CIPHER, clock=lambda: sunday) for _ in "ab"]
    _request(stores[0], start=datetime(2026, 11, 23, 14, 0, tzinfo=SOFIA), user_id=2)
    _at(stores[0], MONDAY)
    _request(stores[0], user_id=1)
    for store in stores:
        _at(store, MONDAY + timedelta(hours=7))  # 15:00: one to remind, one to close
    first_claimed = threading.Event()
    taken: list[int] = []

    def job(store: Store, first: bool) -> None:
        if not first:
            first_claimed.wait(5)
        with store.unit_of_work():
            taken.append(len(getattr(store, take)()))
            if first:  # the other instance reads now, while this claim is not committed
                first_claimed.set()
                time.sleep(0.5)

    threads = [threading.Thread(target=job, args=(s, n == 0)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(taken) == [0, 1]


def test_the_job_replies_to_the_notice_and_tells_the_client_in_their_language(
    client, store, engine
):
    client.answer_until_summary("en", day="day:2026-11-24", time="time:2026-11-24T10:00")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    store.set_staff_message(ref=booking.ref, chat_id=STAFF_CHAT, message_id=77)
    _at(store, MONDAY + timedelta(hours=4))
    out = engine.chase_pending()
    [note] = out.staff
    assert note.reply_to == 77 and booking.ref in note.text and "чака потвърждение" in note.text
    assert "Maria" not in note.text and "123 456" not in note.text  # no more than the notice
    _at(store, TUESDAY_10)
    out = engine.chase_pending()
    assert out.staff == [] and "Изтекла" in out.staff_edits[0].text
    assert not out.staff_edits[0].buttons  # nothing left to confirm
    [(chat, told)] = out.to_clients
    assert chat == client.user_id and "did not confirm your consultation" in told.text
    assert [b.data for row in told.buttons for b in row] == [f"mybooking:move:{booking.ref}"]


async def test_over_telegram_a_pending_request_is_chased_then_closed_and_moved(tg, db_url):
    async with running_bot(tg, db_url) as store:
        vera = tg.user(7301, first_name="Vera", language_code="bg")
        await walk_intake(tg, store, vera)
        [booking] = store.bookings_of(7301)
        [notice] = tg.messages_for(STAFF_CHAT)
        due = store.schedule.after_open_time(booking.created_at, timedelta(hours=4))
        _at(store, due - timedelta(minutes=1))
        await tg.front.chase_pending()
        await settled(tg, store)
        assert len(tg.messages_for(STAFF_CHAT)) == 1
        _at(store, due)
        for _round in range(2):  # the job runs again: no second reminder
            await tg.front.chase_pending()
            await settled(tg, store)
        [_notice, reminder] = tg.messages_for(STAFF_CHAT)
        assert reminder.reply_to == notice.message_id  # a new message, so Telegram notifies
        assert booking.ref in reminder.text and "Maria" not in reminder.text

        _at(store, booking.start + timedelta(minutes=1))
        await tg.front.chase_pending()
        await settled(tg, store)
        assert "Изтекла" in notice.text and not notice.buttons()  # edited in place
        told = vera.last()
        assert "did not confirm your consultation" in told.text
        assert told.buttons() == ["📅 Choose another time"]
        assert store.booking(booking.ref).status == "expired"

        await vera.click("📅 Choose another time")
        await vera.click(vera.last().button_data()[0])  # the first free day
        await vera.click(vera.last().button_data()[0])  # its first time
        assert any("is moved" in m.text for m in vera.messages[-2:])
        moved = store.booking(booking.ref)
        assert moved.status == "pending" and moved.start > booking.start
        assert "Чака потвърждение" in notice.text and notice.buttons()[0] == "✅ Потвърждавам"


def test_an_erased_clients_request_is_closed_without_a_message_to_anyone(client, store, engine):
    client.answer_until_summary("en", day="day:2026-11-24", time="time:2026-11-24T10:00")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    _at(store, TUESDAY_10 + timedelta(minutes=5))
    store.erase_client(client.user_id)  # after its time: the booking stays, anonymized
    out = engine.chase_pending()
    assert out.to_clients == [] and len(out.staff_edits) == 1
    assert store.booking(booking.ref).status == BookingStatus.EXPIRED
