"""Bookings from the staff group: Cancel with a reason, Move in a private chat, Held or No-show
after the time; who may; each change replies to the booking's notice, so the group is told."""

from datetime import timedelta

from icalendar import Calendar

from tests.harness import STAFF_CHAT, running_bot
from tests.test_bookings import book

ELENA, IVAN, COORDINATOR, MEMBER = 901, 902, 903, 555


def consultants(store) -> None:
    for name, telegram_id in (("Elena Petrova", ELENA), ("Ivan Georgiev", IVAN)):
        store.add_consultant(
            name=name,
            telegram_user_id=telegram_id,
            languages="bg,en",
            ways="video,phone,chat",
            hours="mon-fri 08:00-20:00",
        )


async def confirmed(tg, store, user_id: int):
    """A client's booking, confirmed by Elena: (client, the group's notice, the booking)."""
    client = await book(tg, user_id)
    group = tg.group(STAFF_CHAT)
    await group.click(ELENA, "✅ Потвърждавам")
    [notice] = tg.messages_for(STAFF_CHAT)
    [booking] = store.bookings_of(user_id)
    return client, notice, booking


async def test_a_cancel_with_a_reason_tells_the_client_and_replies_to_the_notice(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        vera, notice, booking = await confirmed(tg, store, 7201)
        tg.user(COORDINATOR, first_name="Mila")
        assert "is confirmed" in vera.last().text and "Elena Petrova" in vera.last().text
        group = tg.group(STAFF_CHAT)
        await group.click(COORDINATOR, "🚫 Отменям")
        assert "Защо я отменяте" in tg.callback_answers[-1]
        assert notice.buttons() == [
            "По молба на клиента",
            "Консултантът не може",
            "Дублирана заявка",
            "Друга причина",
            "« Назад",
        ]
        await group.click(COORDINATOR, "« Назад")
        assert notice.buttons() == ["🚫 Отменям", "📅 Премествам", "🔒 Подробности (лично)"]
        await group.click(COORDINATOR, "🚫 Отменям")
        await group.click(COORDINATOR, "Консултантът не може")
        assert "Готово" in tg.callback_answers[-1]
        # The client, kindly, with another time to choose and the file that cancels the event.
        told = vera.last()
        assert "your consultant cannot be there" in told.text
        assert told.buttons() == ["📅 Choose another time"]
        cancelling = Calendar.from_ical(told.document)
        assert cancelling["method"] == "CANCEL"
        assert cancelling.walk("VEVENT")[0].decoded("sequence") == booking.sequence + 1
        # The notice as it now stands, and a reply to it that notifies the group.
        [notice, reply] = tg.messages_for(STAFF_CHAT)
        assert "🚫 Отменена консултация" in notice.text and "Нова заявка" not in notice.text
        assert "Отменена от Mila" in notice.text  # a coordinator: by their Telegram name
        assert "Консултантът не може" in notice.text and notice.buttons() == []
        assert reply.reply_to == notice.message_id
        assert booking.ref in reply.text and "Консултантът не може" in reply.text
        assert "Vera" not in reply.text  # the notice shows the client; the reply need not
        assert store.bookings_of(7201) == []
        assert booking.start in store.free_slots("video", "bg")
        last = store.audit_entries()[-1]  # the choice of a reason did it, not the first tap
        assert (last.user_id, last.role, last.action, last.ref) == (
            COORDINATOR, "coordinator", "cancel", booking.ref
        )  # fmt: skip
        entries = len(store.audit_entries())
        # The old reason buttons are gone; pressing one from an old copy changes nothing.
        before = len(vera.messages)
        update = tg._callback_query(COORDINATOR, notice, f"bk:why:{booking.ref}:other")
        update["callback_query"]["message"]["chat"] = {"id": STAFF_CHAT, "type": "supergroup"}
        tg.push_update(update)
        await tg.wait_idle()
        assert "Вече" in tg.callback_answers[-1] and len(vera.messages) == before
        assert len(tg.messages_for(STAFF_CHAT)) == 2
        assert len(store.audit_entries()) == entries  # nothing done, nothing logged


async def test_only_the_consultant_and_coordinators_may_change_a_booking(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        vera, notice, booking = await confirmed(tg, store, 7202)
        group = tg.group(STAFF_CHAT)
        for who in (MEMBER, IVAN):  # a member of the group; another booking's consultant
            await group.click(who, "🚫 Отменям")
            assert "Само консултантът на тази консултация" in tg.callback_answers[-1]
            assert "подробности" not in tg.callback_answers[-1].lower()
            await group.click(who, "📅 Премествам")
            assert "Само консултантът на тази консултация" in tg.callback_answers[-1]
        assert tg.user(IVAN).messages == [] and tg.user(MEMBER).messages == []
        assert notice.buttons() == ["🚫 Отменям", "📅 Премествам", "🔒 Подробности (лично)"]
        assert len(tg.messages_for(STAFF_CHAT)) == 1 and store.bookings_of(7202) == [booking]
        await group.click(ELENA, "🚫 Отменям")  # her own booking
        await group.click(ELENA, "По молба на клиента")
        assert "As you asked us" in vera.last().text
        assert "Отменена от Elena Petrova: По молба на клиента" in notice.text


async def test_a_move_happens_in_a_private_chat_and_the_client_gets_the_new_time(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        vera, notice, booking = await confirmed(tg, store, 7203)
        first_file = Calendar.from_ical(
            next(m.document for m in reversed(vera.messages) if m.document)
        )
        coordinator = tg.user(COORDINATOR, first_name="Mila")
        coordinator.block()  # never pressed Start: Telegram refuses to write to them
        group = tg.group(STAFF_CHAT)
        await group.click(COORDINATOR, "📅 Премествам")
        assert "отворете личен чат" in tg.callback_answers[-1]
        assert len(tg.messages_for(STAFF_CHAT)) == 1
        coordinator.unblock()
        await group.click(COORDINATOR, "📅 Премествам")
        assert "личния ни чат" in tg.callback_answers[-1]
        assert len(tg.messages_for(STAFF_CHAT)) == 1  # the picker is not in the group
        [days] = coordinator.messages
        assert booking.ref in days.text and len(days.buttons()) > 1
        await coordinator.click(days.button_data()[1])  # another day
        times = coordinator.last()
        assert times.buttons()[-1] == "‹ Друг ден" and len(times.buttons()) > 1
        await coordinator.click(times.button_data()[0])
        assert "Клиентът е уведомен" in coordinator.last().text
        [moved] = store.bookings_of(7203)
        assert moved.ref == booking.ref and moved.start != booking.start
        assert moved.status == "confirmed"
        assert booking.start in store.free_slots("video", "bg")
        # The client: the new time, and the same calendar event, updated.
        told = vera.last()
        assert "has been moved" in told.text and told.filename.endswith(".ics")
        [old, new] = (f.walk("VEVENT")[0] for f in (first_file, Calendar.from_ical(told.document)))
        assert new["uid"] == old["uid"]
        assert new.decoded("sequence") == old.decoded("sequence") + 1
        assert new.decoded("dtstart") != old.decoded("dtstart")
        # The group: the notice shows the new time, and a reply tells it.
        [notice, reply] = tg.messages_for(STAFF_CHAT)
        new_time = tg.front.engine.t.when(moved.start, "bg")
        assert new_time in notice.text and reply.reply_to == notice.message_id
        assert new_time in reply.text and "Mila" in reply.text


async def test_held_and_no_show_after_the_time(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        _vera, notice, booking = await confirmed(tg, store, 7204)
        await tg.group(STAFF_CHAT).click(ELENA, "📅 Премествам")
        mine = tg.user(ELENA)
        real = store.clock
        store.clock = lambda: booking.start + timedelta(hours=2)
        try:
            for _round in (1, 2):  # the job asks the group once
                await tg.front.chase_pending()
                await tg.wait_idle()
            assert notice.buttons() == ["✔️ Проведена", "✖️ Не дойде", "🔒 Подробности (лично)"]
            [_notice, asked] = tg.messages_for(STAFF_CHAT)
            assert "Проведе ли се" in asked.text and asked.reply_to == notice.message_id
            await mine.click(mine.last().button_data()[0])  # the picker, after the time: no move
            assert "Вече" in tg.callback_answers[-1]
            group = tg.group(STAFF_CHAT)
            await group.click(MEMBER, "✖️ Не дойде")
            assert "Само консултантът на тази консултация" in tg.callback_answers[-1]
            await group.click(ELENA, "✖️ Не дойде")
            assert "Отбелязано" in tg.callback_answers[-1]
            assert "Клиентът не дойде (отбеляза Elena Petrova)" in notice.text
            assert notice.buttons() == ["🔒 Подробности (лично)"]
            reply = tg.messages_for(STAFF_CHAT)[-1]
            assert reply.reply_to == notice.message_id and booking.ref in reply.text
            assert store.booking(booking.ref).status == "no_show"
        finally:
            store.clock = real


async def test_a_request_marked_held_before_its_time_is_refused(tg, db_url):
    async with running_bot(tg, db_url) as store:
        consultants(store)
        _vera, notice, booking = await confirmed(tg, store, 7205)
        update = tg._callback_query(ELENA, notice, f"bk:held:{booking.ref}")
        update["callback_query"]["message"]["chat"] = {"id": STAFF_CHAT, "type": "supergroup"}
        tg.push_update(update)
        await tg.wait_idle()
        assert "Вече" in tg.callback_answers[-1]
        assert store.booking(booking.ref).status == "confirmed"
        assert len(tg.messages_for(STAFF_CHAT)) == 1


async def test_a_client_move_replies_to_the_notice(tg, db_url):
    async with running_bot(tg, db_url) as store:
        vera = await book(tg, 7206)
        [booking] = store.bookings_of(7206)
        await vera.send("/mybooking")
        await vera.click(f"mybooking:move:{booking.ref}")
        await vera.click(vera.last().button_data()[1])
        await vera.click(vera.last().button_data()[0])
        [moved] = store.bookings_of(7206)
        [notice, reply] = tg.messages_for(STAFF_CHAT)
        assert reply.reply_to == notice.message_id and booking.ref in reply.text
        assert tg.front.engine.t.when(moved.start, "bg") in reply.text
        assert "клиентът я премести" in reply.text


async def test_two_staff_cancelling_at_once_one_wins_and_the_client_is_told_once(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        vera, notice, booking = await confirmed(tg, store, 7207)
        before = len(vera.messages)
        for staff_id, reason in ((ELENA, "unavailable"), (COORDINATOR, "asked")):
            # both taps reach the bot before it handles either
            update = tg._callback_query(staff_id, notice, f"bk:why:{booking.ref}:{reason}")
            update["callback_query"]["message"]["chat"] = {"id": STAFF_CHAT, "type": "supergroup"}
            tg.push_update(update)
        await tg.wait_idle()
        answers = tg.callback_answers[-2:]
        assert sorted("Готово" in a for a in answers) == [False, True]
        assert len(vera.messages) == before + 1
        assert len(tg.messages_for(STAFF_CHAT)) == 2  # the notice and one reply


async def test_the_client_is_told_the_consultants_name_never_the_tappers(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)) as store:
        consultants(store)
        vera = await book(tg, 7208)
        [booking] = store.bookings_of(7208)
        tg.user(COORDINATOR, first_name="Mila")  # a coordinator, not a consultant
        await tg.group(STAFF_CHAT).click(COORDINATOR, "✅ Потвърждавам")
        [consultant] = [c for c in store.consultants() if c.id == booking.consultant_id]
        assert "is confirmed" in vera.last().text
        assert consultant.name in vera.last().text and "Mila" not in vera.last().text


async def test_on_the_team_calendar_the_client_is_told_no_name(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(COORDINATOR,)):
        vera = await book(tg, 7209)  # no consultants: the team calendar
        tg.user(COORDINATOR, first_name="Mila")
        await tg.group(STAFF_CHAT).click(COORDINATOR, "✅ Потвърждавам")
        assert "is confirmed" in vera.last().text
        assert "Mila" not in vera.last().text and "Your consultant" not in vera.last().text
