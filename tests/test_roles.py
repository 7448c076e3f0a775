"""Roles and what they may do, the audit log, /setup, and a consultant's own time in private."""

import os
import subprocess
import sys

from tests.harness import STAFF_CHAT, TEST_KEY, running_bot
from tests.test_bookings import book, up_to_the_day

ADMIN, COORDINATOR, ELENA, MEMBER = 801, 802, 901, 555
CLI = [sys.executable, "-m", "bot.cli"]


def add_elena(store) -> None:
    store.add_consultant(
        name="Elena Petrova",
        telegram_user_id=ELENA,
        languages="bg,en",
        ways="video,phone,chat",
        hours="mon-fri 08:00-20:00",
    )


def audit_cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "STAFF_CHAT_ID")}
    env |= {"DATABASE_URL": db_url, "INTAKE_DATA_KEY": TEST_KEY}
    return subprocess.run(
        [*CLI, "audit", *args], capture_output=True, text=True, env=env, timeout=60
    )


async def test_each_button_refuses_with_its_own_words_and_what_is_done_is_audited(tg, db_url):
    roles = {"admin_user_ids": (ADMIN,), "staff_user_ids": (COORDINATOR,)}
    async with running_bot(tg, db_url, **roles) as store:
        add_elena(store)
        await book(tg, 7201)
        [booking] = store.bookings_of(7201)
        group = tg.group(STAFF_CHAT)
        for member in (MEMBER, ADMIN):  # an admin is no coordinator: Confirm is not theirs
            await group.click(member, "✅ Потвърждавам")
            assert (
                "Само консултантът на записа или координаторите на приема могат да потвърдят"
                in (tg.callback_answers[-1])
            )
            await group.click(member, "❌ Отказвам")
            assert "могат да откажат часа" in tg.callback_answers[-1]
            await group.click(member, "🔒 Подробности (лично)")
            assert "могат да отварят данните на клиента" in tg.callback_answers[-1]
        assert store.bookings_of(7201)[0].status == "pending"
        assert tg.messages_for(MEMBER) == [] and tg.messages_for(ADMIN) == []
        assert store.audit_entries() == []  # nothing was done
        [refused] = await group.send(MEMBER, "/agenda")
        assert "координаторите и консултантите" in refused.text
        await group.click(ELENA, "✅ Потвърждавам")
        assert "Готово" in tg.callback_answers[-1]
        await group.send(COORDINATOR, f"/agenda {booking.start.date().isoformat()}")
        done = [(e.user_id, e.role, e.action, e.ref) for e in store.audit_entries()]
        assert done == [
            (ELENA, "consultant", "confirm", booking.ref),
            (COORDINATOR, "coordinator", "agenda", None),
        ]
    printed = audit_cli(db_url)
    assert printed.returncode == 0, printed.stderr
    lines = [line.split("\t")[1:] for line in printed.stdout.splitlines()]
    assert lines == [
        [str(ELENA), "consultant", "confirm", booking.ref],
        [str(COORDINATOR), "coordinator", "agenda", ""],
    ]
    assert "Vera" not in printed.stdout  # no client data in the log
    later = audit_cli(db_url, "--since", "2999-01-01")
    assert later.returncode == 0 and later.stdout == ""
    wrong = audit_cli(db_url, "--since", "yesterday")
    assert wrong.returncode == 2 and "a date like 2026-12-01" in wrong.stderr


async def test_the_consultant_who_confirms_is_told_privately_and_opens_the_details(tg, db_url):
    async with running_bot(tg, db_url) as store:
        add_elena(store)
        await book(tg, 7202)
        [booking] = store.bookings_of(7202)
        await tg.group(STAFF_CHAT).click(ELENA, "✅ Потвърждавам")
        [private] = tg.messages_for(ELENA)
        assert "Имате нова консултация" in private.text
        assert "Vera Dimitrova" in private.text and booking.ref in private.text
        assert "Как: Видео" in private.text
        assert "I have trouble" not in private.text  # the client's own words only in Details
        assert private.buttons() == ["🔒 Подробности (лично)"]
        elena = tg.user(ELENA)
        await elena.click("🔒 Подробности (лично)")
        assert "I have trouble sleeping" in tg.messages_for(ELENA)[-1].text
        actions = [(e.user_id, e.action) for e in store.audit_entries()]
        assert actions == [(ELENA, "confirm"), (ELENA, "details")]
        vera = tg.user(7202)
        await vera.send("/deletedata")
        await vera.click("Yes, delete everything")
        await tg.wait_idle()
        assert "Vera Dimitrova" not in private.text  # erasure reaches the private copy too
        assert [(e.user_id, e.action) for e in store.audit_entries()] == actions  # kept


async def test_a_consultant_who_never_opened_the_chat_does_not_hold_up_anyone(tg, db_url):
    async with running_bot(tg, db_url) as store:
        add_elena(store)
        tg.refuse_chat(ELENA, "Forbidden: bot can't initiate conversation with a user")
        vera = await book(tg, 7203)
        [notice] = tg.messages_for(STAFF_CHAT)
        await tg.group(STAFF_CHAT).click(ELENA, "✅ Потвърждавам")
        assert "Потвърдена от Elena Petrova" in notice.text
        assert "is confirmed" in vera.last().text  # the client is told all the same
        await tg.wait_idle()
        tries = [c for c in tg.calls_to("sendMessage") if str(c.get("chat_id")) == str(ELENA)]
        assert len(tries) == 1  # refused once, then dropped: not tried again
        assert store.outbox_backlog() == 0
        await book(tg, 7206)  # the next booking's notice is not held up behind it
        assert len(tg.messages_for(STAFF_CHAT)) == 2


async def test_setup_shows_what_is_missing_to_an_admin_and_nothing_to_others(tg, db_url):
    async with running_bot(tg, db_url, admin_user_ids=(ADMIN,)) as store:
        store.disable_org("ACME")
        group = tg.group(STAFF_CHAT)
        [refused] = await group.send(MEMBER, "/setup")
        assert "Само администраторите на практиката (ADMIN_USER_IDS)" in refused.text
        [missing] = await group.send(ADMIN, "/setup")
        assert "✅ Тази група е групата на екипа" in missing.text
        assert f"✅ Администратори (ADMIN_USER_IDS): {ADMIN}" in missing.text
        assert "⚠️ Няма координатори на приема" in missing.text
        assert "⚠️ Няма консултанти" in missing.text and "intake-bot staff add" in missing.text
        assert "❌ Няма организация" in missing.text and "intake-bot org add" in missing.text
        assert "Още не е готово" in missing.text
        [elsewhere] = await tg.group(-100444).send(ADMIN, "/setup")
        assert f"Номерът на тази група е -100444, а STAFF_CHAT_ID е {STAFF_CHAT}" in elsewhere.text
        add_elena(store)
        store.add_org(code="ACME", name="Acme Ltd")
        [ready] = await group.send(ADMIN, "/setup")
        assert f"✅ Консултанти: Elena Petrova ({ELENA})" in ready.text
        assert "✅ Активни организации: 1" in ready.text
        assert "Всичко необходимо е готово" in ready.text and "❌" not in ready.text
        assert [e.action for e in store.audit_entries()] == ["setup"] * 3


async def test_time_off_entered_in_chat_is_kept_from_clients_until_removed(tg, db_url):
    async with running_bot(tg, db_url) as store:
        add_elena(store)
        first_day = store.free_slots("video", "bg")[0].date().isoformat()
        elena = tg.user(ELENA)
        [added] = await elena.send(f"/timeoff {first_day} {first_day} a course in Sofia")
        assert f"Отсъствие 1 е записано: от {first_day} 00:00" in added.text
        [entry] = store.time_off(store.consultant_by_telegram(ELENA).id)
        assert entry.note == "a course in Sofia"
        assert all(slot.date().isoformat() != first_day for slot in store.free_slots("video", "bg"))
        vera = tg.user(7204, language_code="en")
        await up_to_the_day(vera)
        days = vera.last().button_data()
        assert days and not any(first_day in data for data in days)  # the picker honours it
        [listed] = await elena.send("/timeoff list")
        assert "Вашите отсъствия:" in listed.text and f"1. {first_day} 00:00" in listed.text
        [hours] = await elena.send("/myhours")
        assert "mon-fri 08:00-20:00" in hours.text and "a course in Sofia" in hours.text
        [missing] = await elena.send("/timeoff remove 9")
        assert "Нямате отсъствие с номер 9" in missing.text
        [removed] = await elena.send("/timeoff remove 1")
        assert "Отсъствие 1 е премахнато" in removed.text
        assert store.free_slots("video", "bg")[0].date().isoformat() == first_day
        assert "Няма въведени отсъствия." in (await elena.send("/timeoff list"))[0].text
        actions = [(e.user_id, e.action, e.ref) for e in store.audit_entries()]
        assert actions == [
            (ELENA, "timeoff_add", "1"),
            (ELENA, "timeoff_list", None),
            (ELENA, "myhours", None),
            (ELENA, "timeoff_remove", "1"),
            (ELENA, "timeoff_list", None),
        ]


async def test_time_off_in_chat_refuses_as_the_command_line_does(tg, db_url):
    async with running_bot(tg, db_url) as store:
        add_elena(store)
        elena = tg.user(ELENA)
        [bad] = await elena.send("/timeoff tomorrow 2026-12-02")
        assert "Очаквам дата като 2026-12-24" in bad.text and "„tomorrow“" in bad.text
        assert "/timeoff ОТ ДО" in bad.text  # and how to write it
        [backwards] = await elena.send("/timeoff 2026-12-05 2026-12-02")
        assert "Краят на отсъствието (2026-12-02) е преди началото му (2026-12-05)" in (
            backwards.text
        )
        for usage in ("/timeoff", "/timeoff remove x", "/timeoff list all"):
            [said] = await elena.send(usage)
            assert said.text.startswith("За да въведете отсъствие: /timeoff ОТ ДО")
        assert store.time_off(store.consultant_by_telegram(ELENA).id) == []
        assert store.audit_entries() == []


async def test_to_a_client_timeoff_is_an_unknown_command_like_any_other(tg, db_url):
    async with running_bot(tg, db_url) as store:
        add_elena(store)
        client = tg.user(7205)
        [unknown] = await client.send("/whatever")
        [timeoff] = await client.send("/timeoff 2026-12-24 2026-12-26")
        [myhours] = await client.send("/myhours")
        assert timeoff.text == unknown.text == myhours.text
        assert "отсъствие" not in timeoff.text.lower()
        assert store.time_off(store.consultant_by_telegram(ELENA).id) == []


async def test_an_admin_may_take_an_alert_a_group_member_may_not_and_it_is_audited(tg, db_url):
    async with running_bot(tg, db_url, admin_user_ids=(ADMIN,)) as store:
        eva = tg.user(9408, first_name="Eva", language_code="en")
        await eva.send("I have been saving my pills and tonight is the night")
        group = tg.group(STAFF_CHAT)
        await group.click(MEMBER, "📞 Обаждам се")
        assert "Само служителите на практиката могат да поемат сигнал" in tg.callback_answers[-1]
        assert store.latest_alert(9408).acknowledged_by is None and store.audit_entries() == []
        await group.click(ADMIN, "📞 Обаждам се")
        assert store.latest_alert(9408).acknowledged_by is not None
        taken = [(e.user_id, e.role, e.action, e.ref) for e in store.audit_entries()]
        assert taken == [(ADMIN, "admin", "take_alert", "A-1")]
