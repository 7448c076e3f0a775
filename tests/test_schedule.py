"""Weekly hours, slots, notice, horizon and clock changes; then bookings in the database."""

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import Schedule, SlotTaken, Store, open_database, parse_weekly_hours
from tests.conftest import CIPHER, MONDAY

SOFIA = ZoneInfo("Europe/Sofia")


def test_weekly_hours_spec():
    hours = parse_weekly_hours("mon-fri 08:00-20:00; sat 9:00-13:00")
    assert set(hours.periods) == {0, 1, 2, 3, 4, 5}
    assert str(hours.periods[5][0][0]) == "09:00:00"
    for bad in ("", "mon-fri", "fri-mon 08:00-20:00", "mon 20:00-08:00", "xyz 08:00-09:00"):
        with pytest.raises(ValueError):
            parse_weekly_hours(bad)


def test_default_schedule_is_weekdays_eight_to_eight_in_hour_slots():
    slots = Schedule().day_slots(date(2026, 11, 24))
    assert [s.hour for s in slots] == list(range(8, 20))
    assert all(s.tzinfo == SOFIA for s in slots)
    assert Schedule().day_slots(date(2026, 11, 28)) == []  # Saturday


def test_minimum_notice_and_horizon():
    slots = Schedule().slots(MONDAY)  # Monday 08:00 in Sofia
    assert slots[0] == datetime(2026, 11, 24, 8, 0, tzinfo=SOFIA)  # 12 h notice: not today
    assert slots[-1] == datetime(2026, 12, 7, 19, 0, tzinfo=SOFIA)  # today + 14 days
    assert len(slots) == 10 * 12  # Tue 24 Nov to Mon 7 Dec: ten working days


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2026, 3, 27), 2),  # Friday before the spring change: UTC+2
        (date(2026, 3, 30), 3),  # Monday after it: UTC+3
        (date(2026, 10, 23), 3),  # Friday before the autumn change: UTC+3
        (date(2026, 10, 26), 2),  # Monday after it: UTC+2
    ],
)
def test_slots_keep_local_hours_across_clock_changes(day, offset):
    slots = Schedule().day_slots(day)
    assert [s.hour for s in slots] == list(range(8, 20))
    assert [s.astimezone(UTC).hour for s in slots] == [h - offset for h in range(8, 20)]


def test_a_wall_time_skipped_by_the_clock_change_is_not_offered():
    schedule = Schedule(hours=parse_weekly_hours("sun 02:00-05:00"))
    starts = [s.hour for s in schedule.day_slots(date(2026, 3, 29))]
    assert starts == [2, 4]  # 03:00 does not exist that night


def test_bookings_survive_a_clock_change_in_storage(db_url):
    spring = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
    store = Store(open_database(db_url), Schedule(), CIPHER, clock=lambda: spring)
    start = datetime(2026, 3, 30, 8, 0, tzinfo=SOFIA)
    booked = store.book(start=start, **_who(1))
    assert booked.start == start
    assert store.bookings_of(1)[0].start == start
    assert start not in store.free_slots()


def test_a_slot_too_soon_or_outside_hours_cannot_be_booked(store):
    for start in (
        datetime(2026, 11, 23, 15, 0, tzinfo=SOFIA),  # under 12 h notice
        datetime(2026, 11, 28, 10, 0, tzinfo=SOFIA),  # Saturday
        datetime(2026, 11, 24, 10, 30, tzinfo=SOFIA),
    ):  # not a slot start
        with pytest.raises(SlotTaken):
            store.book(start=start, **_who(1))


def test_free_days_drop_a_day_once_every_slot_is_taken(store):
    tuesday = date(2026, 11, 24)
    assert tuesday in store.free_days()
    for i, slot in enumerate(store.free_slots_on(tuesday)):
        store.book(start=slot, **_who(100 + i))
    assert tuesday not in store.free_days()
    assert store.free_slots_on(tuesday) == []


def _who(user_id: int) -> dict:
    return {
        "user_id": user_id,
        "chat_id": user_id,
        "org_code": "ACME",
        "way": "video",
        "consult_lang": "bg",
        "client_lang": "bg",
        "answers": {"name": "x"},
    }


def _race(url: str, bookers: int = 24, slots: int = 3) -> dict:
    """`bookers` threads try to book the same few slots at the same moment."""
    store = Store(open_database(url), Schedule(), CIPHER, clock=lambda: MONDAY)
    targets = store.free_slots()[:slots]
    barrier = threading.Barrier(bookers)
    winners: dict = {slot: [] for slot in targets}
    losers = []

    def attempt(user_id: int) -> None:
        slot = targets[user_id % slots]
        barrier.wait()
        try:
            store.book(start=slot, **_who(user_id))
            winners[slot].append(user_id)
        except SlotTaken:
            losers.append(user_id)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(bookers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(losers) == bookers - slots
    return winners


def test_concurrent_bookers_on_sqlite_exactly_one_winner_per_slot(db_url):
    winners = _race(db_url)
    assert all(len(users) == 1 for users in winners.values())


def test_concurrent_bookers_on_postgresql_exactly_one_winner_per_slot(pg_url):
    winners = _race(pg_url)
    assert all(len(users) == 1 for users in winners.values())


def test_a_freed_slot_index_only_counts_active_bookings(store):
    """The unique index is partial: a booking with another status does not block the slot."""
    from sqlmodel import Session, select

    from storage.models import Booking

    slot = store.free_slots()[0]
    store.book(start=slot, **_who(1))
    with Session(store.engine) as session:
        booking = session.exec(select(Booking)).one()
        booking.status = "cancelled"
        session.commit()
    assert slot in store.free_slots()
    store.book(start=slot, **_who(2))
    assert store.clock() + timedelta(hours=12) <= slot
