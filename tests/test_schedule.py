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
    assert Schedule().day_slots(date(2026, 11, 28)) == ()  # Saturday


def test_minimum_notice_and_horizon(store):
    slots = store.free_slots()  # the store's clock: Monday 08:00 in Sofia
    assert slots[0] == datetime(2026, 11, 24, 8, 0, tzinfo=SOFIA)  # 12 h notice: not today
    assert slots[-1] == datetime(2026, 12, 14, 19, 0, tzinfo=SOFIA)  # today + 21 days
    assert len(slots) == 15 * 12  # Tue 24 Nov to Mon 14 Dec: fifteen working days


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


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (datetime(2026, 11, 24, 9, 30), datetime(2026, 11, 24, 13, 30)),  # within one day
        (datetime(2026, 11, 24, 6, 0), datetime(2026, 11, 24, 12, 0)),  # before opening
        (datetime(2026, 11, 27, 18, 0), datetime(2026, 11, 30, 10, 0)),  # over the weekend
        (datetime(2026, 11, 28, 11, 0), datetime(2026, 11, 30, 12, 0)),  # made on a Saturday
        (datetime(2026, 12, 31, 19, 0), datetime(2027, 1, 4, 11, 0)),  # 1 January is closed
    ],
)
def test_hours_after_a_request_count_only_opening_hours(start, due):
    start, due = start.replace(tzinfo=SOFIA), due.replace(tzinfo=SOFIA)
    assert Schedule().after_open_time(start, timedelta(hours=4)) == due


def test_closed_periods_are_not_counted_as_opening_hours():
    start = datetime(2026, 11, 24, 9, 0, tzinfo=SOFIA)  # a Tuesday, open 08:00-20:00
    lunch = (start.replace(hour=10), start.replace(hour=11))
    team_day = (start.replace(day=25, hour=0), start.replace(day=26, hour=0))
    due = Schedule().after_open_time(start, timedelta(hours=4), [team_day, lunch])
    assert due == start.replace(hour=14)
    due = Schedule().after_open_time(start, timedelta(hours=12), [team_day, lunch])
    assert due == start.replace(day=26, hour=10)  # 10 h on Tuesday, none on Wednesday


def test_opening_hours_over_a_clock_change_count_as_the_hours_that_passed():
    schedule = Schedule(hours=parse_weekly_hours("sun 00:00-12:00"), holiday_country=None)
    night = datetime(2027, 3, 28, 0, 0, tzinfo=SOFIA)  # at 03:00 the clocks go to 04:00
    assert schedule.after_open_time(night, timedelta(hours=11)) == night.replace(hour=12)
    assert schedule.after_open_time(night, timedelta(hours=12)) == datetime(
        2027, 4, 4, 1, 0, tzinfo=SOFIA
    )


def test_a_wall_time_skipped_by_the_clock_change_is_not_offered():
    schedule = Schedule(hours=parse_weekly_hours("sun 02:00-05:00"))
    starts = [s.hour for s in schedule.day_slots(date(2026, 3, 29))]
    assert starts == [2, 4]  # 03:00 does not exist that night


def test_bookings_survive_a_clock_change_in_storage(db_url):
    spring = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
    store = Store(open_database(db_url), Schedule(), CIPHER, clock=lambda: spring)
    start = datetime(2026, 3, 30, 8, 0, tzinfo=SOFIA)
    booked = store.book(hold_ref=None, start=start, **_who(1))
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
            store.book(hold_ref=None, start=start, **_who(1))


def test_free_days_drop_a_day_once_every_slot_is_taken(store):
    tuesday = date(2026, 11, 24)
    assert tuesday in store.free_days()
    for i, slot in enumerate(store.free_slots_on(tuesday)):
        store.book(hold_ref=None, start=slot, **_who(100 + i))
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


def _race(url: str, bookers: int = 24, slots: int = 3, consultants: int = 0) -> dict:
    """`bookers` threads try to book the same few slots at the same moment."""
    store = Store(open_database(url), Schedule(), CIPHER, clock=lambda: MONDAY)
    for n in range(consultants):
        store.add_consultant(
            name=f"C{n}",
            telegram_user_id=500 + n,
            languages="bg",
            ways="video",
            hours="mon-fri 08:00-20:00",
        )
    targets = store.free_slots()[:slots]
    barrier = threading.Barrier(bookers)
    winners: dict = {slot: [] for slot in targets}
    losers = []

    def attempt(user_id: int) -> None:
        slot = targets[user_id % slots]
        barrier.wait()
        try:
            store.book(hold_ref=None, start=slot, **_who(user_id))
            winners[slot].append(user_id)
        except SlotTaken:
            losers.append(user_id)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(bookers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(losers) == bookers - slots * max(consultants, 1)
    return winners


def test_concurrent_bookers_on_sqlite_exactly_one_winner_per_slot(db_url):
    winners = _race(db_url)
    assert all(len(users) == 1 for users in winners.values())


def test_concurrent_bookers_on_postgresql_exactly_one_winner_per_slot(pg_url):
    winners = _race(pg_url)
    assert all(len(users) == 1 for users in winners.values())


def test_a_freed_slot_index_only_counts_active_bookings(store):
    """The unique index is partial: a cancelled booking does not block the slot."""
    from sqlmodel import Session, select

    from storage.models import Booking

    slot = store.free_slots()[0]
    store.book(hold_ref=None, start=slot, **_who(1))
    with Session(store.engine) as session:
        booking = session.exec(select(Booking)).one()
        booking.status = "cancelled"
        session.commit()
    assert slot in store.free_slots()
    store.book(hold_ref=None, start=slot, **_who(2))
    assert store.clock() + timedelta(hours=12) <= slot


def test_two_consultants_give_two_winners_per_slot_and_never_three(db_url):
    winners = _race(db_url, bookers=30, slots=3, consultants=2)
    assert all(len(users) == 2 for users in winners.values())


def test_concurrent_holds_on_postgresql_exactly_one_winner_per_slot(pg_url):
    store = Store(open_database(pg_url), Schedule(), CIPHER, clock=lambda: MONDAY)
    slot = store.free_slots()[0]
    barrier = threading.Barrier(16)
    won, lost = [], []

    def attempt(user_id: int) -> None:
        barrier.wait()
        try:
            store.hold(
                start=slot,
                user_id=user_id,
                chat_id=user_id,
                way="video",
                lang="bg",
                client_lang="bg",
            )
            won.append(user_id)
        except SlotTaken:
            lost.append(user_id)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(1, 17)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(won) == 1 and len(lost) == 15
    assert slot not in store.free_slots()


def test_public_holidays_are_closed():
    schedule = Schedule()
    assert schedule.day_slots(date(2026, 12, 24)) == ()  # Christmas Eve, a Thursday
    assert schedule.day_slots(date(2026, 12, 28)) == ()  # Christmas observed, a Monday
    assert schedule.day_slots(date(2026, 12, 29))
    assert Schedule(holiday_country=None).day_slots(date(2026, 12, 24))


def test_session_and_buffer_make_the_slot_grid():
    schedule = Schedule(
        hours=parse_weekly_hours("mon 09:00-12:00"), session_minutes=50, buffer_minutes=25
    )
    assert [s.strftime("%H:%M") for s in schedule.day_slots(date(2026, 11, 23))] == [
        "09:00",
        "10:15",
    ]  # 11:30 + 50 minutes would end after 12:00


def test_only_consultants_who_speak_the_language_and_offer_the_way_count(store):
    store.add_consultant(
        name="Elena",
        telegram_user_id=901,
        languages="bg",
        ways="video,phone",
        hours="tue 10:00-12:00",
    )
    store.add_consultant(
        name="John", telegram_user_id=902, languages="en", ways="chat", hours="wed 14:00-16:00"
    )
    tuesday, wednesday = date(2026, 11, 24), date(2026, 11, 25)
    assert store.free_days("video", "bg")[:1] == [tuesday]
    assert [s.hour for s in store.free_slots_on(tuesday, "video", "bg")] == [10, 11]
    assert store.free_slots_on(tuesday, "chat", "bg") == []
    assert [s.hour for s in store.free_slots_on(wednesday, "chat", "en")] == [14, 15]
    assert store.free_slots_on(wednesday, "video", "en") == []


def test_time_off_and_a_busy_consultant_leave_the_other_free(store):
    store.add_consultant(
        name="Elena", telegram_user_id=901, languages="bg", ways="video", hours="tue 10:00-12:00"
    )
    store.add_consultant(
        name="Ivan", telegram_user_id=902, languages="bg", ways="video", hours="tue 10:00-12:00"
    )
    ten = datetime(2026, 11, 24, 10, 0, tzinfo=SOFIA)
    store.book(hold_ref=None, start=ten, **_who(1))
    assert ten in store.free_slots("video", "bg")  # one of the two is still free
    store.book(hold_ref=None, start=ten, **_who(2))
    assert ten not in store.free_slots("video", "bg")
    [ivan] = [c for c in store.consultants() if c.name == "Ivan"]
    store.add_time_off(ivan.id, ten + timedelta(hours=1), ten + timedelta(hours=2))
    [elena] = [c for c in store.consultants() if c.name == "Elena"]
    eleven = ten + timedelta(hours=1)
    assert eleven in store.free_slots("video", "bg")
    store.add_time_off(
        elena.id,
        datetime(2026, 11, 24, 0, 0, tzinfo=SOFIA),
        datetime(2026, 11, 25, 0, 0, tzinfo=SOFIA),
    )
    assert eleven not in store.free_slots("video", "bg")
