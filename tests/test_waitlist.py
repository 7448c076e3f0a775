"""A waiting list that works: a freed time is held for the first waiting client it fits, booked
with one tap, passed on to the next when unanswered; clients leave it, it ends at the horizon,
erasure takes it; /waitlist shows the staff the queue by name alone."""

import threading
import time
from datetime import timedelta

from sqlmodel import select

from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from storage import BookingStatus, Schedule, Store, open_database
from storage.models import Booking
from tests.conftest import CIPHER, MONDAY
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import ANSWERS, settled, walk_intake

ELENA, JOHN = 901, 902
ONE_SLOT_A_WEEK = "tue 10:00-11:00"  # three times to the horizon: easy to fill


def _consultants(store: Store) -> None:
    store.add_consultant(
        name="Elena", telegram_user_id=ELENA, languages="bg", ways="video", hours=ONE_SLOT_A_WEEK
    )
    store.add_consultant(
        name="John", telegram_user_id=JOHN, languages="en", ways="chat", hours=ONE_SLOT_A_WEEK
    )


def _fill(store: Store) -> list[tuple[str, int]]:
    """Every free time taken by other clients; their (reference, user id), earliest first."""
    taken = []
    for way, lang in (("video", "bg"), ("chat", "en")):
        for n, start in enumerate(store.free_slots(way, lang)):
            user = 100 + len(taken) + n
            booked = store.book(
                hold_ref=None, start=start, user_id=user, chat_id=user, org_code="ACME",
                way=way, consult_lang=lang, client_lang="en", answers={"name": "Other"},
            )  # fmt: skip
            taken.append((booked.ref, user))
    assert store.free_slots() == []
    return sorted(taken, key=lambda t: store.booking(t[0]).start)


def _join(store: Store, user_id: int, name: str, way="video", lang="bg", urgent=None) -> None:
    store.join_waitlist(
        user_id=user_id, chat_id=user_id, way=way, consult_lang=lang, client_lang="en",
        urgent=urgent,
        answers={"org": "ACME", "name": name, "phone": "+359888123456", "way": way,
                 "consult_lang": lang, "reason": "Work stress"},
    )  # fmt: skip


def _at(store: Store, moment) -> None:
    store.clock = lambda: moment


async def _join_over_telegram(tg, store, monkeypatch, user_id, name, way="video", lang="bg"):
    monkeypatch.setitem(ANSWERS, "name", name)
    monkeypatch.setitem(ANSWERS, "way", f"way:{way}")
    monkeypatch.setitem(ANSWERS, "consult_lang", f"consult_lang:{lang}")
    client = tg.user(user_id, first_name=name.split()[0], language_code="en")
    await walk_intake(tg, store, client, until="day")
    await client.click("waitlist:join")
    return client


async def test_a_cancel_is_offered_to_the_first_who_fits_then_to_the_next(tg, db_url, monkeypatch):
    async with running_bot(tg, db_url, staff_user_ids=(ELENA,)) as store:
        _at(store, MONDAY)
        _consultants(store)
        [(first_ref, first_user), *_] = _fill(store)
        freed = store.booking(first_ref)
        ivan = await _join_over_telegram(tg, store, monkeypatch, 8101, "Ivan Kolev", "chat", "en")
        maria = await _join_over_telegram(tg, store, monkeypatch, 8102, "Maria Ivanova")
        petar = await _join_over_telegram(tg, store, monkeypatch, 8103, "Petar Georgiev")
        await settled(tg, store)
        before = {u.id: len(tg.messages_for(u.id)) for u in (ivan, maria, petar)}

        store.cancel(ref=first_ref, user_id=first_user)  # Elena's Tuesday is free again
        await tg.front.offer_freed_times()
        await settled(tg, store)
        offer = maria.last()
        assert "a time has become free for you" in offer.text
        assert f"{freed.start.day} November" in offer.text
        assert offer.button_data() == [
            next(b for b in offer.button_data() if b.startswith("wl:book:")),
            next(b for b in offer.button_data() if b.startswith("wl:pass:")),
            "wl:leave",
        ]
        assert len(tg.messages_for(ivan.id)) == before[ivan.id]  # first, but chat in English
        assert len(tg.messages_for(petar.id)) == before[petar.id]  # second in line for it
        held = store.booking(offer.button_data()[0].split(":")[2])
        assert held.status == BookingStatus.HELD and held.start == freed.start
        assert store.free_slots("video", "bg") == []  # nobody else can take it meanwhile

        _at(store, MONDAY + timedelta(hours=1))
        await tg.front.offer_freed_times()  # within the hold: nothing moves
        await settled(tg, store)
        assert len(tg.messages_for(petar.id)) == before[petar.id]

        _at(store, MONDAY + timedelta(hours=2, minutes=1))  # Maria did not answer in time
        await tg.front.offer_freed_times()
        await settled(tg, store)
        assert "gone to the next person" in maria.last().text
        to_petar = petar.last()
        assert "a time has become free for you" in to_petar.text

        await maria.press(offer, offer.button_data()[0])  # her old offer, tapped too late
        await settled(tg, store)
        assert "the offer has lapsed" in maria.last().text
        assert store.bookings_of(maria.id) == []

        await petar.click(to_petar.button_data()[0])  # one tap books it
        await settled(tg, store)
        [booking] = store.bookings_of(petar.id)
        assert booking.start == freed.start and booking.status == BookingStatus.PENDING
        [notice] = [m for m in tg.messages_for(STAFF_CHAT) if booking.ref in m.text]
        assert "Petar Georgiev" in notice.text and notice.buttons()[0] == "✅ Потвърждавам"
        assert any(booking.ref in m.text for m in petar.messages[-2:])  # the confirmation
        assert store.waiting_of(petar.id) is None  # booked: off the list
        assert [w.user_id for w in store.waiting()] == [ivan.id, maria.id]  # places kept

        group = tg.group(STAFF_CHAT)
        [refused] = await group.send(7999, "/waitlist")  # in the group, not staff
        assert "Maria" not in refused.text and "координаторите" in refused.text
        [queue] = await group.send(ELENA, "/waitlist")
        assert "1. Ivan Kolev" in queue.text and "2. Maria Ivanova" in queue.text
        for private in ("+359", "888", "maria@example.com", "anxious", "Sofia"):
            assert private not in queue.text
        await settled(tg, store)
        await maria.send("/mydata")
        mydata = "\n".join(m.text for m in tg.messages_for(maria.id)[-3:])
        assert "saw your place on the waiting list" in mydata  # logged, as /agenda is

        await maria.send("/mybooking")
        assert "on the waiting list since" in maria.last().text
        await maria.click("wl:leave")
        assert "no longer on the waiting list" in maria.last().text
        assert [w.user_id for w in store.waiting()] == [ivan.id]


def _round(engine: IntakeEngine):
    with engine.store.unit_of_work():
        return engine.offer_freed_times()


def test_an_offer_moves_on_when_unanswered_and_passing_keeps_the_place(store, texts: Texts):
    _consultants(store)
    [(ref, user), *_] = _fill(store)
    engine = IntakeEngine(store, texts)
    _join(store, 1, "Ana")
    _join(store, 2, "Boris")
    store.cancel(ref=ref, user_id=user)
    [(chat, offer)] = _round(engine).to_clients
    assert chat == 1 and "until" in offer.text
    _at(store, MONDAY + timedelta(hours=2))  # the hold has lapsed
    out = _round(engine)
    assert [chat for chat, _reply in out.to_clients] == [1, 2]  # told, then the next offered
    [(_chat, to_boris)] = out.to_clients[1:]
    boris_ref = to_boris.buttons[0][0].data.split(":")[2]
    assert store.pass_offer(user_id=2, ref=boris_ref)  # "not this time"
    assert _round(engine).to_clients == []  # both have let this time go: nobody is pestered
    assert [w.user_id for w in store.waiting()] == [1, 2]
    assert store.book_offer(user_id=2, ref=boris_ref) is None  # passed: no longer open


def test_a_booking_from_the_list_keeps_the_answers_and_the_risk_noticed(store, texts):
    _consultants(store)
    [(ref, user), *_] = _fill(store)
    _join(store, 1, "Ana", urgent="self_harm")
    store.cancel(ref=ref, user_id=user)
    [(_chat, offer)] = _round(IntakeEngine(store, texts)).to_clients
    booked = store.book_offer(user_id=1, ref=offer.buttons[0][0].data.split(":")[2])
    booking = store.booking(booked.ref)
    assert booking.status == BookingStatus.PENDING and booking.org_code == "ACME"
    assert booking.urgent == "self_harm" and "urgent" not in booking.answers
    assert booking.answers["reason"] == "Work stress" and store.waiting() == []


def test_leaving_erasure_and_the_horizon_end_an_entry_and_free_its_hold(store, texts):
    _consultants(store)
    [(ref, user), *_] = _fill(store)
    engine = IntakeEngine(store, texts)
    _join(store, 1, "Ana")
    store.cancel(ref=ref, user_id=user)
    _round(engine)
    assert store.free_slots("video", "bg") == []  # held for Ana
    store.erase_client(1)
    assert store.waiting() == [] and store.free_slots("video", "bg")  # the hold went too
    with store._session() as session:
        assert session.exec(select(Booking).where(Booking.user_id == 1)).all() == []
    _join(store, 2, "Boris")
    _round(engine)
    assert store.leave_waitlist(2) and store.free_slots("video", "bg")
    _join(store, 3, "Vera", way="chat", lang="en")  # nothing free for her
    _at(store, MONDAY + timedelta(days=store.schedule.horizon_days, minutes=1))
    [(chat, ended)] = _round(engine).to_clients
    assert chat == 3 and "has ended" in ended.text and store.waiting() == []


def test_two_instances_at_once_offer_a_waiting_client_one_time(db_url):
    stores = [Store(open_database(db_url), Schedule(), CIPHER, clock=lambda: MONDAY) for _ in "ab"]
    _consultants(stores[0])
    elenas = [t for t in _fill(stores[0]) if stores[0].booking(t[0]).way == "video"]
    for ref, user in elenas[:2]:  # two times free, one client waiting
        stores[0].cancel(ref=ref, user_id=user)
    _join(stores[0], 1, "Ana")
    first_offered = threading.Event()
    offered: list[int] = []

    def job(store: Store, first: bool) -> None:
        if not first:
            first_offered.wait(5)
        with store.unit_of_work():
            offered.extend(w.user_id for w in store.make_offers())
            if first:  # the other instance runs now, while this offer is not committed
                first_offered.set()
                time.sleep(0.5)

    threads = [threading.Thread(target=job, args=(s, n == 0)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert offered == [1]  # one offer: the other instance does not hold her a second time
    with stores[0]._session() as session:
        held = session.exec(select(Booking).where(Booking.status == BookingStatus.HELD)).all()
    assert [b.user_id for b in held] == [1]
