"""Matching is an invariant, and overlap is impossible by construction: a booking goes only to a
consultant who fits it (languages, ways, hours, time off, closures, their other bookings), on
every path that writes one, and no two active bookings of a calendar overlap, whatever their
lengths, on SQLite (the check in the writing transaction) and PostgreSQL (the constraint)."""

import contextlib
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from dialogs.engine import IntakeEngine
from dialogs.messages import IntakeConfig
from storage import Schedule, SlotTaken, Store, open_database
from storage.consultants import CLOSURE
from tests.conftest import CIPHER, MONDAY
from tests.driver import EngineClient
from tests.harness import STAFF_CHAT, running_bot
from tests.test_bookings import up_to_the_day

SOFIA = ZoneInfo("Europe/Sofia")
TUESDAY = datetime(2026, 11, 24, tzinfo=SOFIA)  # the first bookable day at MONDAY
ELENA, IVAN = 901, 902


def _store(url: str, minutes: int) -> Store:
    return Store(
        open_database(url), Schedule(session_minutes=minutes), CIPHER, clock=lambda: MONDAY
    )


def _book(store: Store, user_id: int, start: datetime):
    return store.book(
        hold_ref=None,
        start=start,
        user_id=user_id,
        chat_id=user_id,
        org_code="ACME",
        way="video",
        consult_lang="bg",
        client_lang="en",
        answers={"name": "Client"},
    )


def _race(url: str, start: datetime, count: int = 6) -> list[str]:
    """`count` clients book `start` at once, each through a store (engine) of its own."""
    stores = [_store(url, 50) for _ in range(count)]
    barrier = threading.Barrier(count)
    won: list[str] = []

    def attempt(number: int) -> None:
        barrier.wait()
        with contextlib.suppress(SlotTaken):
            won.append(_book(stores[number], 5000 + number, start).ref)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.engine.dispose()
    return won


def test_a_booking_of_another_length_is_never_overlapped_even_by_racing_clients(db_url):
    # Booked when sessions took 110 minutes: 08:00-09:50, and the buffer to 10:00.
    before = _store(db_url, 110)
    long = _book(before, 4000, TUESDAY.replace(hour=8))
    now = _store(db_url, 50)  # SESSION_MINUTES is 50 since
    assert TUESDAY.replace(hour=9) not in now.free_slots("video", "bg")  # not offered
    assert TUESDAY.replace(hour=10) in now.free_slots("video", "bg")
    assert _race(db_url, TUESDAY.replace(hour=9)) == []  # nor taken, by any of them
    assert len(_race(db_url, TUESDAY.replace(hour=10))) == 1  # the next one: by exactly one
    starts = sorted(
        (b.start.hour, b.minutes)
        for b in now.bookings_between(TUESDAY, TUESDAY + timedelta(days=1))
    )
    assert starts == [(8, 110), (10, 50)]
    assert now.booking(long.ref).minutes == 110


def test_postgresql_refuses_an_overlap_the_code_did_not_see(pg_url, monkeypatch):
    store = _store(pg_url, 110)
    _book(store, 4000, TUESDAY.replace(hour=8))
    # As if two transactions had both read the time as free: only the constraint is left.
    monkeypatch.setattr(Store, "_overlapping", lambda *args, **kwargs: False)
    with pytest.raises(SlotTaken):
        _book(_store(pg_url, 50), 4001, TUESDAY.replace(hour=9))
    with store.engine.connect() as connection:
        [definition] = connection.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
            {"n": "ex_booking_overlap"},
        ).scalars()
    assert "gist" in definition and "confirmed" in definition


def test_a_move_keeps_time_off_and_closures_and_lapsed_holds_give_way(client, store):
    client.answer_until_summary("en", day="day:2026-11-25", time="time:2026-11-25T10:00")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    wednesday_noon = TUESDAY.replace(day=25, hour=12)
    away = store.add_time_off(
        booking.consultant_id, wednesday_noon, wednesday_noon.replace(hour=14)
    )
    with pytest.raises(SlotTaken):  # the team calendar's time off
        store.reschedule(ref=booking.ref, user_id=client.user_id, start=wednesday_noon)
    store.remove_time_off(booking.consultant_id, away)
    closed = store.add_time_off(CLOSURE, wednesday_noon, wednesday_noon.replace(hour=13))
    with pytest.raises(SlotTaken):
        store.reschedule(ref=booking.ref, user_id=client.user_id, start=wednesday_noon)
    store.remove_time_off(CLOSURE, closed)
    # Someone held 12:00 and went away: once the hold lapsed the time is shown free, and is.
    store.hold(
        start=wednesday_noon, user_id=77, chat_id=77, way="video", lang="bg", client_lang="bg"
    )
    assert wednesday_noon not in store.free_slots("video", "bg")
    store.clock = lambda: MONDAY + timedelta(minutes=11)
    assert wednesday_noon in store.free_slots("video", "bg")
    moved = store.reschedule(ref=booking.ref, user_id=client.user_id, start=wednesday_noon)
    assert moved.start == wednesday_noon and moved.status == "pending"


def _consultant(store: Store, name: str, telegram_id: int, languages: str, ways: str, hours: str):
    return store.add_consultant(
        name=name, telegram_user_id=telegram_id, languages=languages, ways=ways, hours=hours
    )


async def test_confirm_by_a_consultant_who_does_not_fit_leaves_the_request_pending(tg, db_url):
    async with running_bot(tg, db_url) as store:
        elena = _consultant(store, "Elena", ELENA, "bg,en", "video", "mon-fri 08:00-20:00")
        _consultant(store, "Ivan", IVAN, "bg", "video,phone", "mon-fri 08:00-20:00")
        vera = tg.user(7201, first_name="Vera", language_code="en")
        await up_to_the_day(vera, consult_lang="en")  # in English, by video: only Elena fits
        for _step in ("day", "time"):
            await vera.click(vera.last().button_data()[0])
        await vera.click("skip:experience")
        await vera.click("skip:notes")
        await vera.click("book:confirm")
        [notice] = tg.messages_for(STAFF_CHAT)
        group = tg.group(STAFF_CHAT)
        await group.click(IVAN, "✅ Потвърждавам")
        assert tg.callback_answers[-1] == (
            "Този клиент търси: Видео, на английски. Вие не предлагате това, затова заявката "
            "остава за колега."
        )
        [booking] = store.bookings_of(7201)
        assert booking.status == "pending" and booking.consultant_id == elena.id
        assert "Чака потвърждение" in notice.text and not any(
            "confirmed" in m.text for m in vera.messages
        )
        await group.click(ELENA, "✅ Потвърждавам")
        [booking] = store.bookings_of(7201)
        assert booking.status == "confirmed" and booking.consultant_id == elena.id


def test_confirm_checks_hours_time_off_closures_and_other_bookings(store):
    elena = _consultant(store, "Elena", ELENA, "bg", "video", "mon-fri 08:00-20:00")
    ivan = _consultant(store, "Ivan", IVAN, "bg", "video", "mon-fri 12:00-20:00")
    morning = _book(store, 4100, TUESDAY.replace(hour=9))
    assert store.booking(morning.ref).consultant_id == elena.id
    assert store.misfit(ivan.id, morning.ref) == "hours"
    result, _view = store.decide(
        ref=morning.ref, action="confirm", staff_name="Ivan", consultant_id=ivan.id
    )
    assert result == "hours" and store.booking(morning.ref).status == "pending"

    afternoon = _book(store, 4101, TUESDAY.replace(hour=14))  # Elena's
    store.set_consultant_hours(ivan.id, "mon-fri 08:00-20:00")
    off = store.add_time_off(ivan.id, TUESDAY.replace(hour=13), TUESDAY.replace(hour=15))
    assert store.misfit(ivan.id, afternoon.ref) == "away"
    store.remove_time_off(ivan.id, off)
    closure = store.add_time_off(CLOSURE, TUESDAY.replace(hour=14), TUESDAY.replace(hour=15))
    assert store.misfit(ivan.id, afternoon.ref) == "away"
    store.remove_time_off(CLOSURE, closure)
    _book(store, 4102, TUESDAY.replace(hour=14))  # now Ivan's: the same time, another client
    assert store.misfit(ivan.id, afternoon.ref) == "busy"
    result, _view = store.decide(
        ref=afternoon.ref, action="confirm", staff_name="Ivan", consultant_id=ivan.id
    )
    assert result == "busy" and store.booking(afternoon.ref).consultant_id == elena.id
    assert store.misfit(elena.id, afternoon.ref) is None
    result, view = store.decide(
        ref=afternoon.ref, action="confirm", staff_name="Elena", consultant_id=elena.id
    )
    assert result == "done" and view.status == "confirmed"


def _summary_client(store: Store, texts, user_id: int) -> EngineClient:
    client = EngineClient(IntakeEngine(store, texts, IntakeConfig()), user_id)
    client.answer_until_summary("en", day="day:2026-11-24", time="time:2026-11-24T09:00")
    assert client.state()["step"] == "summary"
    return client


def _held(store: Store, client: EngineClient):
    return store.booking(client.state()["hold_ref"])


def test_changing_the_language_from_the_summary_moves_the_hold_to_a_consultant_who_fits(
    store, texts
):
    elena = _consultant(store, "Elena", ELENA, "bg", "video", "mon-fri 08:00-20:00")
    ivan = _consultant(store, "Ivan", IVAN, "en", "video", "mon-fri 08:00-20:00")
    client = _summary_client(store, texts, 61)
    assert _held(store, client).consultant_id == elena.id
    client.press("edit:consult_lang")
    client.press("consult_lang:en")
    assert client.state()["step"] == "summary"
    held = _held(store, client)
    assert (held.consultant_id, held.consult_lang, held.start.hour) == (ivan.id, "en", 9)
    client.press("book:confirm")
    [booking] = store.bookings_of(61)
    assert booking.consultant_id == ivan.id and booking.consult_lang == "en"


def test_changing_the_way_from_the_summary_when_nobody_fits_then_asks_for_a_time_again(
    store, texts
):
    elena = _consultant(store, "Elena", ELENA, "bg", "video", "mon-fri 08:00-20:00")
    ivan = _consultant(store, "Ivan", IVAN, "bg", "phone", "mon-fri 12:00-20:00")
    client = _summary_client(store, texts, 62)
    hold = client.state()["hold_ref"]
    client.press("edit:way")
    client.press("way:phone")  # Ivan only, and not at 09:00
    state = client.state()
    assert (
        state["hold_ref"] is None and "time" not in state["answers"] and store.booking(hold) is None
    )
    assert "is not free with a consultant who works this way" in client.text
    assert state["step"] == "time" and all(
        b >= "time:2026-11-24T12" for b in client.buttons() if b.startswith("time:2")
    )
    client.press(client.first_free("time:2"))
    assert client.state()["step"] == "summary"
    assert _held(store, client).consultant_id == ivan.id
    assert TUESDAY.replace(hour=9) in store.free_slots("video", "bg")  # Elena's time is free again
    assert elena.id != ivan.id


def test_a_hold_with_a_consultant_who_no_longer_fits_is_not_kept_by_booking(store):
    elena = _consultant(store, "Elena", ELENA, "bg", "video", "mon-fri 08:00-20:00")
    ivan = _consultant(store, "Ivan", IVAN, "en", "video", "mon-fri 08:00-20:00")
    start = TUESDAY.replace(hour=9)
    hold = store.hold(start=start, user_id=63, chat_id=63, way="video", lang="bg", client_lang="en")
    assert store.booking(hold).consultant_id == elena.id
    booked = store.book(
        hold_ref=hold,
        start=start,
        user_id=63,
        chat_id=63,
        org_code="ACME",
        way="video",
        consult_lang="en",
        client_lang="en",
        answers={"name": "Client"},
    )
    assert store.booking(booked.ref).consultant_id == ivan.id and store.booking(hold) is None


def test_a_way_that_nobody_offers_in_the_chosen_language_asks_the_language_again(store, texts):
    _consultant(store, "Elena", ELENA, "bg", "video", "mon-fri 08:00-20:00")
    john = _consultant(store, "John", IVAN, "en", "chat", "mon-fri 08:00-20:00")
    client = _summary_client(store, texts, 64)
    client.press("edit:way")
    client.press("way:chat")  # John only, in English
    assert client.state()["step"] == "consult_lang" and "choose the language again" in client.text
    assert client.buttons()[0] == "consult_lang:en"
    client.press("consult_lang:en")
    assert client.state()["step"] == "summary"
    held = _held(store, client)
    assert (held.consultant_id, held.way, held.consult_lang) == (john.id, "chat", "en")
