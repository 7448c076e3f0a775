"""A booking's life: staff Confirm and Decline, /mybooking, reminders, .ics, /agenda, waiting."""

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from dialogs.engine import IntakeEngine
from dialogs.messages import IntakeConfig
from storage import Schedule, SlotTaken, Store, open_database
from storage.consultants import CLOSURE
from storage.crypto import Cipher, generate_key
from tests.conftest import CIPHER, MONDAY
from tests.driver import EngineClient
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import fully_booked

SOFIA = ZoneInfo("Europe/Sofia")
ELENA, IVAN = 901, 902


async def up_to_the_day(client, way: str = "video", consult_lang: str = "bg") -> None:
    """Answer every question before the day, over the fake Telegram."""
    await client.send("/start")
    await client.click(f"lang:{client.language_code}")
    await client.click("consent:yes")
    for answer in ("acme", "Vera Dimitrova"):
        await client.send(answer)
    await client.click("gender:woman")
    for answer in (
        "41",
        "0888 222 333",
        "vera@example.com",
        "Plovdiv",
        "I have trouble sleeping since my father died.",
    ):
        await client.send(answer)
    await client.click(f"way:{way}")
    await client.click(f"consult_lang:{consult_lang}")


async def book(tg, user_id: int, lang: str = "en"):
    """A quick full intake over the fake Telegram; returns the client."""
    client = tg.user(user_id, first_name="Client", language_code=lang)
    await up_to_the_day(client)
    await client.click(client.last().button_data()[0])
    await client.click(client.last().button_data()[0])
    await client.click("skip:experience")
    await client.click("skip:notes")
    await client.click("book:confirm")
    return client


async def test_confirm_by_a_consultant_updates_the_group_and_tells_the_client(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(ELENA,)) as store:
        store.add_consultant(
            name="Elena Petrova",
            telegram_user_id=ELENA,
            languages="bg,en",
            ways="video,phone,chat",
            hours="mon-fri 08:00-20:00",
        )
        vera = await book(tg, 7101)
        [notice] = tg.messages_for(STAFF_CHAT)
        assert "Чака потвърждение" in notice.text
        assert notice.buttons() == [
            "✅ Потвърждавам",
            "❌ Отказвам",
            "🚫 Отменям",
            "📅 Премествам",
            "🔒 Подробности (лично)",
        ]
        group = tg.group(STAFF_CHAT)
        await group.click(555, "✅ Потвърждавам")
        assert "Само консултантът на записа" in tg.callback_answers[-1]  # not staff
        assert "Чака потвърждение" in notice.text
        await group.click(ELENA, "✅ Потвърждавам")
        assert "Потвърдена от Elena Petrova" in notice.text  # edited in place
        assert "Нова заявка" not in notice.text and "📌 Консултация" in notice.text
        assert notice.buttons() == ["🚫 Отменям", "📅 Премествам", "🔒 Подробности (лично)"]
        assert "is confirmed" in vera.last().text and "Elena Petrova" in vera.last().text
        [booking] = store.bookings_of(7101)
        assert booking.status == "confirmed" and booking.decided_by == "Elena Petrova"


async def test_two_staff_confirming_at_once_one_wins_the_other_is_told_who(tg, db_url):
    async with running_bot(tg, db_url) as store:
        for name, telegram_id in (("Elena", ELENA), ("Ivan", IVAN)):
            store.add_consultant(
                name=name,
                telegram_user_id=telegram_id,
                languages="bg",
                ways="video",
                hours="mon-fri 08:00-20:00",
            )
        vera = await book(tg, 7102)
        [notice] = tg.messages_for(STAFF_CHAT)
        for staff_id in (ELENA, IVAN):  # both taps reach the bot before it handles either
            update = tg._callback_query(staff_id, notice, notice.button_data()[0])
            update["callback_query"]["message"]["chat"] = {
                "id": STAFF_CHAT,
                "type": "supergroup",
                "title": "Staff",
            }
            tg.push_update(update)
        await tg.wait_idle()
        answers = tg.callback_answers[-2:]
        assert sorted("Готово" in a for a in answers) == [False, True]
        loser_answer = next(a for a in answers if "Готово" not in a)
        [booking] = store.bookings_of(7102)
        assert f"Потвърдена от {booking.decided_by}" in loser_answer
        winner = {"Elena": ELENA, "Ivan": IVAN}[booking.decided_by]
        assert store.consultant_by_telegram(winner).id == booking.consultant_id
        assert sum("is confirmed" in m.text for m in vera.messages) == 1


async def test_decline_offers_another_time_and_the_move_waits_for_staff_again(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(ELENA,)) as store:
        vera = await book(tg, 7103)
        [before] = store.bookings_of(7103)
        first_file = Calendar.from_ical(vera.last().document)
        group = tg.group(STAFF_CHAT)
        await group.click(ELENA, "❌ Отказвам")
        [notice] = tg.messages_for(STAFF_CHAT)
        assert "Отказана" in notice.text and notice.buttons() == []
        assert "cannot keep your consultation" in vera.last().text
        await vera.click("📅 Choose another time")
        await vera.click(vera.last().button_data()[1])  # another day
        await vera.click(vera.last().button_data()[0])
        assert "now takes place" in vera.last().text and vera.last().filename.endswith(".ics")
        [old, new] = (
            f.walk("VEVENT")[0] for f in (first_file, Calendar.from_ical(vera.last().document))
        )
        assert new["uid"] == old["uid"]  # the same event, updated in the client's calendar
        assert new.decoded("sequence") == old.decoded("sequence") + 1
        assert new.decoded("dtstart") != old.decoded("dtstart")
        [after] = store.bookings_of(7103)
        assert after.ref == before.ref and after.start != before.start
        assert after.status == "pending" and "Чака потвърждение" in notice.text
        assert before.start in store.free_slots("video", "bg")


async def test_mybooking_cancel_frees_the_slot_and_updates_the_staff(tg, db_url):
    async with running_bot(tg, db_url) as store:
        vera = await book(tg, 7104)
        [booking] = store.bookings_of(7104)
        assert booking.start not in store.free_slots("video", "bg")
        [shown] = await vera.send("/mybooking")
        assert booking.ref in shown.text and "waiting for confirmation" in shown.text
        await vera.click("Cancel it")
        await vera.click("No, keep it")
        assert store.bookings_of(7104)
        await vera.send("/mybooking")
        await vera.click(f"mybooking:cancel:{booking.ref}")
        await vera.click("Yes, cancel it")
        assert "is cancelled" in vera.last().text
        cancelling = Calendar.from_ical(vera.last().document)  # takes it out of her calendar
        assert cancelling["method"] == "CANCEL"
        [event] = cancelling.walk("VEVENT")
        assert event["uid"] == f"{booking.ref}@intake-bot" and event["status"] == "CANCELLED"
        assert event.decoded("sequence") == 1
        assert store.bookings_of(7104) == []
        assert booking.start in store.free_slots("video", "bg")
        [notice, reply] = tg.messages_for(STAFF_CHAT)
        assert "Отменена от клиента" in notice.text and notice.buttons() == []
        assert "🚫 Отменена консултация" in notice.text and "Нова заявка" not in notice.text
        # An edit notifies nobody: a reply to the notice does.
        assert reply.reply_to == notice.message_id and "клиентът я отмени" in reply.text
        assert booking.ref in reply.text and "Vera" not in reply.text
        [replies] = [await vera.send("/mybooking")]
        assert "no upcoming consultation" in replies[0].text


async def test_confirmation_carries_an_ics_in_the_practice_time_zone(tg, db_url):
    async with running_bot(tg, db_url) as store:
        vera = await book(tg, 7105)
        confirmation = vera.last()
        assert confirmation.method == "sendDocument" and "is held for you" in confirmation.text
        [booking] = store.bookings_of(7105)
        event = Calendar.from_ical(confirmation.document).walk("VEVENT")[0]
        [alarm] = event.walk("VALARM")  # an hour before
        assert alarm.decoded("trigger") == -timedelta(hours=1)
        assert event.decoded("sequence") == 0 and event["status"] == "TENTATIVE"  # not confirmed
        start = event.decoded("dtstart")
        assert start == booking.start and str(start.tzinfo) == "Europe/Sofia"
        assert event.decoded("dtend") - start == timedelta(minutes=50)
        assert booking.ref in str(event.get("uid"))
        assert Calendar.from_ical(confirmation.document).walk("VTIMEZONE")


async def test_a_video_consultation_carries_its_consultants_link_once_confirmed(tg, db_url):
    link = "https://meet.example.com/elena-petrova"
    async with running_bot(tg, db_url) as store:
        store.add_consultant(
            name="Elena Petrova",
            telegram_user_id=ELENA,
            languages="bg,en",
            ways="video,phone",
            hours="mon-fri 08:00-20:00",
            video_url=link,
        )
        vera = await book(tg, 7106)  # a video call
        held = Calendar.from_ical(vera.last().document).walk("VEVENT")[0]
        assert held["location"] == link and link in held["description"]
        await tg.group(STAFF_CHAT).click(ELENA, "✅ Потвърждавам")
        confirmed = vera.last()
        assert "is confirmed" in confirmed.text and link in confirmed.text
        event = Calendar.from_ical(confirmed.document).walk("VEVENT")[0]
        assert event["status"] == "CONFIRMED" and event.decoded("sequence") == 1  # an update
        assert event["uid"] == held["uid"] and event["url"] == link
        phone = tg.user(7107, first_name="Ivo", language_code="en")
        await up_to_the_day(phone, way="phone")
        await phone.click(phone.last().button_data()[0])
        await phone.click(phone.last().button_data()[0])
        await phone.click("skip:experience")
        await phone.click("skip:notes")
        await phone.click("book:confirm")
        assert "location" not in Calendar.from_ical(phone.last().document).walk("VEVENT")[0]
        assert link not in phone.last().text  # a phone call has no video room


async def test_agenda_in_the_staff_group_lists_the_days_bookings(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(ELENA,)) as store:
        await book(tg, 7106)
        [booking] = store.bookings_of(7106)
        group = tg.group(STAFF_CHAT)
        [agenda] = await group.send(ELENA, f"/agenda {booking.start.date().isoformat()}")
        assert booking.ref in agenda.text and "Vera Dimitrova" in agenda.text
        assert "I have trouble" not in agenda.text
        [wrong] = await group.send(ELENA, "/agenda tomorrow-ish")
        assert "/agenda" in wrong.text and "ГГГГ" in wrong.text
        [elsewhere] = await tg.group(-100444).send(ELENA, "/agenda")
        assert booking.ref not in elsewhere.text
        [refused] = await group.send(7999, "/agenda")  # a member of the group, not staff
        assert booking.ref not in refused.text and "Vera" not in refused.text
        assert "координаторите и консултантите" in refused.text
        vera = tg.user(7106)
        await vera.send("/mydata")
        mydata = "\n".join(m.text for m in tg.messages_for(7106)[-3:])
        assert "saw your booking in the day's agenda" in mydata  # logged, like Details
        assert mydata.count("day's agenda") == 1  # the use that showed Vera, not the refused


def test_reschedule_moves_atomically_and_keeps_the_reference(client, store):
    client.answer_until_summary("en")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    client.command("mybooking")
    client.press(f"mybooking:move:{booking.ref}")
    assert client.state()["step"] == "day" and not [
        b for b in client.buttons() if b.startswith("back:")
    ]
    client.press("day:2026-11-26")
    client.press("time:2026-11-26T15:00")
    [moved] = store.bookings_of(client.user_id)
    assert moved.ref == booking.ref and moved.start.hour == 15
    assert booking.start in store.free_slots("video", "bg")
    assert client.state()["step"] == "done" and client.state()["rescheduling"] is None


def test_reminders_are_sent_once_and_never_for_cancelled_or_moved_bookings(engine, store):
    clients = [EngineClient(engine, n) for n in (21, 22, 23)]
    for who, hour in zip(clients, (10, 11, 12), strict=True):
        who.answer_until_summary("en", day="day:2026-11-26", time=f"time:2026-11-26T{hour}:00")
        who.press("book:confirm")
    keep, cancel, move = (store.bookings_of(who.user_id)[0] for who in clients)
    store.cancel(ref=cancel.ref, user_id=22)
    new_start = store.free_slots("video", "bg")[-1]
    moved = store.reschedule(ref=move.ref, user_id=23, start=new_start)
    day_before = keep.start - timedelta(hours=24)
    store.clock = lambda: day_before
    [due] = store.take_due_reminders()
    assert due.ref == keep.ref
    assert store.take_due_reminders() == []  # marked sent: no second process sends it too
    reply = engine.reminder(due)
    assert "reminder" in reply.text and "Sofia time" in reply.text
    assert "Europe/Sofia" not in reply.text
    an_hour_before = keep.start - timedelta(hours=1)
    store.clock = lambda: an_hour_before
    assert [b.ref for b in store.take_due_reminders()] == [keep.ref]
    at_new_time = moved.start - timedelta(hours=1)
    store.clock = lambda: at_new_time
    refs = [(b.ref, b.start) for b in store.take_due_reminders()]
    assert refs == [(move.ref, moved.start)]  # the missed 24 h one is not sent late
    assert store.take_due_reminders() == []


def test_a_reminder_taken_by_an_update_that_did_not_commit_is_taken_again(engine, store):
    who = EngineClient(engine, 31)
    who.answer_until_summary("en", day="day:2026-11-26", time="time:2026-11-26T10:00")
    who.press("book:confirm")
    [booking] = store.bookings_of(31)
    moment = booking.start - timedelta(hours=2)
    store.clock = lambda: moment
    with pytest.raises(RuntimeError), store.unit_of_work():
        assert [b.ref for b in store.take_due_reminders()] == [booking.ref]
        raise RuntimeError("the process fails before its message is queued")
    with store.unit_of_work():
        assert [b.ref for b in store.take_due_reminders()] == [booking.ref]
    assert store.take_due_reminders() == []


def test_days_are_offered_a_week_at_a_time(client):
    to_the_days(client)
    first_week = [b for b in client.buttons() if b.startswith("day:")]
    assert first_week == [f"day:2026-11-{d}" for d in (24, 25, 26, 27)]
    assert "week:1" in client.buttons() and "week:-1" not in client.buttons()
    client.press("week:1")
    assert next(b for b in client.buttons() if b.startswith("day:")) == "day:2026-11-30"
    assert "week:0" in client.buttons()


def to_the_days(client: EngineClient) -> None:
    """From /start to the day question: Maria, by video, in Bulgarian."""
    client.begin("en")
    for answer in ("acme", "Maria Ivanova"):
        client.say(answer)
    client.press("gender:woman")
    for answer in ("34", "0888 123 456", "m@example.com", "Sofia", "Work stress for months."):
        client.say(answer)
    client.press("way:video")
    client.press("consult_lang:bg")


def others_book(store: Store, slots: list[datetime]) -> None:
    for n, slot in enumerate(slots):
        store.book(hold_ref=None, start=slot, user_id=500 + n, chat_id=500 + n, org_code="ACME",
                   way="video", consult_lang="bg", client_lang="bg", answers={})  # fmt: skip


class RivalFirstStore(Store):
    """A store where, once, another client holds the pressed time just before this one."""

    rival_first = True

    def hold(self, **booking):
        if self.rival_first:
            self.rival_first = False
            super().hold(**{**booking, "user_id": 999, "chat_id": 999})
        return super().hold(**booking)


def test_after_the_offered_times_went_too_a_new_day_shows_its_own_times(db_url, texts):
    store = RivalFirstStore(open_database(db_url), Schedule(), CIPHER, clock=lambda: MONDAY)
    store.add_org(code="ACME", name="Acme Ltd")
    client = EngineClient(IntakeEngine(store, texts, IntakeConfig()), 42, language_code="en")
    to_the_days(client)
    client.press("day:2026-11-24")
    client.press(client.first_free("time:2026"))  # the rival holds it a moment earlier
    assert "someone booked that time" in client.text
    offered = [b for b in client.buttons() if b.startswith("time:2026")]
    others_book(store, [datetime.fromisoformat(i[5:]).replace(tzinfo=SOFIA) for i in offered])
    client.press(offered[0])
    assert "no longer free" in client.text and "day:2026-11-25" in client.buttons()
    client.press("day:2026-11-25")
    assert "no free times" not in client.text
    assert client.first_free("time:2026-11-25")


def test_a_day_filled_while_the_client_looked_at_it_leads_back_to_the_days(client, store):
    to_the_days(client)
    client.press("day:2026-11-24")
    others_book(store, store.free_slots_on(date(2026, 11, 24)))  # the day fills up
    client.say("hello?")  # the time question is asked again
    assert "no free times" not in client.text and "no longer free" in client.text
    assert "day:2026-11-25" in client.buttons() and "day:2026-11-24" not in client.buttons()


def test_nothing_free_offers_the_waiting_list_and_tells_the_staff(store, texts):
    store.add_consultant(
        name="John", telegram_user_id=902, languages="en", ways="chat", hours="mon-fri 08:00-20:00"
    )
    fully_booked(store)
    engine = IntakeEngine(store, texts, IntakeConfig())
    client = EngineClient(engine, 41)
    to_the_days(client)  # the one who does Bulgarian over video is away
    assert "no free times" in client.text and client.buttons() == ["waitlist:join"]
    client.press("waitlist:join")
    assert "waiting list" in client.text
    assert "Списък на чакащите" in client.staff[-1] and "Maria Ivanova" in client.staff[-1]
    assert "Work stress" not in client.staff[-1]
    assert store.export_client(41)["waiting_list"][0]["answers"]["phone"] == "+359888123456"
    client.command("mydata")
    assert "On the waiting list:" in client.text  # /mydata shows the place on the list


def test_a_client_only_on_the_waiting_list_is_not_told_nothing_is_kept(store, texts):
    store.add_consultant(
        name="John", telegram_user_id=902, languages="en", ways="chat", hours="mon-fri 08:00-20:00"
    )
    fully_booked(store)
    client = EngineClient(IntakeEngine(store, texts, IntakeConfig()), 42, language_code="en")
    to_the_days(client)
    client.press("waitlist:join")
    client.command("cancel")
    client.press("cancel:yes")  # the intake is gone; the waiting-list entry is not
    assert store.export_client(42)["waiting_list"]
    client.command("mydata")
    nothing = texts("en", "mydata.nothing")
    assert nothing not in client.text and "On the waiting list:" in client.text
    client.command("deletedata")
    client.press("erase:yes")
    assert store.export_client(42)["waiting_list"] == []
    client.command("mydata")
    assert client.text.startswith(nothing)


def test_staff_commands_manage_consultants(tmp_path):
    import os

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "DATA_KEY_FILE": str(tmp_path / "k"),
    }

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "staff", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    assert "team calendar" in run("list").stdout
    added = run(
        "add",
        "Elena Petrova",
        "--telegram-id",
        "901",
        "--languages",
        "bg,en",
        "--ways",
        "video,phone",
        "--hours",
        "mon-thu 09:00-17:00",
    )
    assert added.returncode == 0 and "added consultant 1" in added.stdout
    assert run("add", "X", "--telegram-id", "902", "--ways", "telepathy").returncode == 2
    assert run("hours", "1", "mon-fri 10:00-18:00").returncode == 0
    assert run("hours", "1", "whenever").returncode == 2
    assert run("edit", "1", "--ways", "telepathy").returncode == 2
    assert run("edit", "1").returncode == 2  # nothing to change
    assert run("edit", "9", "--name", "X").returncode == 1
    assert run("edit", "1", "--name", "Elena  Petrova", "--ways", "video").returncode == 0
    assert "1\tElena Petrova\ttelegram 901\tbg,en\tvideo\t" in run("list").stdout
    assert run("edit", "1", "--video-url", "http://meet.example.com/e").returncode == 2
    assert run("edit", "1", "--video-url", "https://meet.example.com/elena").returncode == 0
    assert run("list").stdout.rstrip().endswith("\thttps://meet.example.com/elena")
    assert run("edit", "1", "--video-url", "").returncode == 0  # no link any more
    assert "meet.example.com" not in run("list").stdout
    blocked = run("timeoff", "add", "1", "2026-12-01", "2026-12-03", "--note", "leave")
    assert blocked.returncode == 0 and blocked.stdout.startswith("time off 1 ")
    assert run("timeoff", "add", "7", "2026-12-01", "2026-12-03").returncode == 1
    assert run("timeoff", "list", "1").stdout.startswith(
        "1\t2026-12-01 00:00\t2026-12-04 00:00\tleave"
    )
    assert run("timeoff", "remove", "1", "2").returncode == 1  # no such time off
    assert run("timeoff", "remove", "1", "1").returncode == 0
    assert run("timeoff", "list", "1").stdout == ""
    listed = run("list").stdout
    assert "Elena Petrova" in listed and "mon-fri 10:00-18:00" in listed and "active" in listed
    assert run("remove", "1").returncode == 0
    assert "removed" in run("list").stdout
    again = run("add", "Elena Petrova", "--telegram-id", "901", "--languages", "en")
    assert again.returncode == 0 and "added consultant 1" in again.stdout  # back, same id
    assert "active" in run("list").stdout and "removed" not in run("list").stdout
    assert run("add", "Elena P.", "--telegram-id", "901").returncode == 2  # active: refused


def test_dates_in_agenda_and_time_off_use_the_practice_zone(store):
    store.add_consultant(
        name="Elena", telegram_user_id=901, languages="bg", ways="video", hours="tue 10:00-12:00"
    )
    [elena] = store.consultants()
    day = date(2026, 11, 24)
    store.add_time_off(
        elena.id,
        datetime(2026, 11, 24, 0, 0, tzinfo=SOFIA),
        datetime(2026, 11, 25, 0, 0, tzinfo=SOFIA),
    )
    assert store.free_slots_on(day, "video", "bg") == []


async def test_reminder_over_telegram_survives_a_restart_without_repeating(tg, db_url):
    from bot.telegram import TelegramFront
    from bot.wiring import build_engine
    from tests.harness import settings_for

    async with running_bot(tg, db_url) as store:
        vera = await book(tg, 7107)
        [booking] = store.bookings_of(7107)
    hour_before = booking.start - timedelta(minutes=50)
    for _process in range(2):  # the bot is restarted between two rounds
        _store, engine, texts = build_engine(settings_for(tg, db_url))
        engine.store.clock = lambda: hour_before
        front = TelegramFront(engine, texts, STAFF_CHAT)
        front.bot = _bot(tg)
        async with front.bot:
            await front.send_reminders()
            await front.drain_outbox()
    reminders = [m for m in vera.messages if "reminder" in m.text]
    assert len(reminders) == 1 and booking.ref in reminders[0].text


def _bot(tg):
    from telegram import Bot

    return Bot(tg.token, base_url=tg.base_url)


async def test_week_paging_and_the_waiting_list_over_telegram(tg, db_url):
    async with running_bot(tg, db_url) as store:
        store.add_consultant(
            name="John",
            telegram_user_id=IVAN,
            languages="en",
            ways="chat",
            hours="mon-fri 08:00-20:00",
        )
        fully_booked(store)
        client = tg.user(7108, language_code="en")
        await up_to_the_day(client, way="chat", consult_lang="en")
        first_week = [d for d in client.last().button_data() if d.startswith("day:")]
        await client.click("Next week ›")
        second_week = [d for d in client.last().button_data() if d.startswith("day:")]
        assert first_week and second_week and not set(first_week) & set(second_week)
        assert len(second_week) == 5  # Monday to Friday, a whole week
        await client.click("‹ Previous week")
        await client.click("‹ Back")
        assert client.last().button_data()[:1] == ["consult_lang:en"]  # John: English only
        await client.click("‹ Back")
        await client.click("way:video")
        await client.click("consult_lang:bg")  # Vera is away: nothing is free
        assert client.last().buttons() == ["🕒 Put me on the waiting list"]
        await client.click("🕒 Put me on the waiting list")
        assert "waiting list" in client.last().text
        [staff] = tg.messages_for(STAFF_CHAT)
        assert "Списък на чакащите" in staff.text and "Vera Dimitrova" in staff.text


def test_a_closure_is_never_offered_and_a_move_cannot_land_in_it(client, store):
    sofia = ZoneInfo("Europe/Sofia")
    tuesday = datetime(2026, 11, 24, tzinfo=sofia)
    client.answer_until_summary("en", day="day:2026-11-25", time="time:2026-11-25T10:00")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    assert date(2026, 11, 24) in store.free_days()
    closure = store.add_time_off(CLOSURE, tuesday, tuesday + timedelta(days=1), "team building")
    assert date(2026, 11, 24) not in store.free_days()  # no consultant's time is offered then
    assert not [s for s in store.free_slots() if s.astimezone(sofia).date() == tuesday.date()]
    with pytest.raises(SlotTaken):  # not even by moving a booking there
        store.reschedule(
            ref=booking.ref, user_id=client.user_id, start=tuesday + timedelta(hours=10)
        )
    assert store.remove_time_off(CLOSURE, closure) and date(2026, 11, 24) in store.free_days()
    moved = store.reschedule(
        ref=booking.ref, user_id=client.user_id, start=tuesday + timedelta(hours=10)
    )
    assert moved.start == tuesday + timedelta(hours=10)


def test_closure_commands_list_the_bookings_already_on_those_days(tmp_path):
    key = generate_key()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "INTAKE_DATA_KEY": key}
    database = open_database(env["DATABASE_URL"])
    store = Store(database, Schedule(), Cipher.from_text(key), clock=lambda: MONDAY)
    start = datetime(2026, 11, 26, 9, tzinfo=ZoneInfo("Europe/Sofia"))
    ref = store.book(
        hold_ref=None, start=start, user_id=5, chat_id=5, org_code="ACME", way="video",
        consult_lang="bg", client_lang="en", answers={"name": "Vera"},
    ).ref  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "bot.cli", "closure", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)

    added = cli("add", "2026-11-26", "2026-11-27", "--note", "team building")
    assert added.returncode == 0, added.stderr
    assert "closure 1: 2026-11-26 00:00 to 2026-11-28 00:00 team building" in added.stdout
    assert "1 bookings already then" in added.stdout and ref in added.stdout
    assert "Vera" not in added.stdout  # a reference and a time, nobody's name
    assert "team building" in cli("list").stdout
    assert cli("remove", "9").returncode == 1
    assert cli("remove", "1").stdout.strip() == "removed closure 1"
    assert cli("list").stdout == ""


def test_ways_and_languages_nobody_offers_are_not_offered(store, texts):
    store.add_consultant(
        name="John",
        telegram_user_id=902,
        languages="en",
        ways="chat,phone",
        hours="mon-fri 08:00-20:00",
    )
    store.add_consultant(
        name="Vera",
        telegram_user_id=903,
        languages="bg,en",
        ways="video",
        hours="mon-fri 08:00-20:00",
    )
    client = EngineClient(IntakeEngine(store, texts, IntakeConfig()), 43)
    client.begin("en")
    for answer in ("acme", "Maria Ivanova"):
        client.say(answer)
    client.press("gender:woman")
    for answer in ("34", "0888 123 456", "m@example.com", "Sofia", "Work stress for months."):
        client.say(answer)
    assert client.buttons()[:3] == ["way:video", "way:phone", "way:chat"]  # each by someone
    client.press("way:chat")
    assert client.buttons()[:-1] == ["consult_lang:en"]  # chat: only John, in English
    client.say("Bulgarian")  # typed: not offered, so asked again kindly
    assert client.state()["step"] == "consult_lang"
    client.press("consult_lang:en")
    assert client.state()["step"] == "day" and any(b.startswith("day:") for b in client.buttons())
