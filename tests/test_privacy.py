"""Privacy by design: consent records, /mydata, correction, erasure, staff access, encryption,
retention and logs, exercised the way a client and the staff would, over the fake Bot API."""

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from bot.cli import configure_logging
from bot.pacing import Pacer
from dialogs import render
from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from dialogs.messages import IntakeConfig
from storage.models import SEALED, place
from tests.driver import EngineClient
from tests.fake_telegram import FakeTelegram
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import fully_booked, settled, walk_intake

STAFF_MEMBER = 900
ANSWERS = {
    "name": "Десислава Кирилова",
    "phone_typed": "0887 654 321",
    "phone": "+359887654321",
    "email": "desi.k@example.org",
    "city": "Габрово",
    "reason": "Тревожност и панически пристъпи след смяна на работата.",
    "notes": "Моля, звънете след 17 ч.",
}


async def book_over_telegram(client) -> None:
    """A full Bulgarian intake, typed into the fake Telegram, confirmed at the end."""
    await client.send("/start")
    await client.click("lang:bg")
    await client.click("consent:yes")
    await client.send("acme")
    await client.send(ANSWERS["name"])
    await client.click("Жена")
    await client.send("38")
    await client.send(ANSWERS["phone_typed"])
    await client.send(ANSWERS["email"])
    await client.send(ANSWERS["city"])
    await client.send(ANSWERS["reason"])
    await client.click("Видео")
    await client.click("Български")
    await client.click(client.last().button_data()[0])
    await client.click(client.last().button_data()[0])
    await client.click("Да")
    await client.send(ANSWERS["notes"])
    await client.click("book:confirm")
    assert "Часът е запазен за Вас" in client.last().text


def plain_answers() -> list[str]:
    return [v for k, v in ANSWERS.items() if k != "phone_typed"]


async def test_mydata_shows_everything_and_sends_it_as_json(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)):
        desi = tg.user(8001, language_code="bg")
        await book_over_telegram(desi)
        replies = await desi.send("/mydata")
        summary, caption_or_file = replies[0], replies[-1]
        assert "Това е всичко, което пазим за Вас." in summary.text
        for value in (ANSWERS["name"], ANSWERS["phone"], ANSWERS["email"], ANSWERS["city"]):
            assert value in summary.text
        assert "Тревожност" in summary.text  # their own words, shown only to them
        assert "версия на известието" in summary.text and "365 дни" in summary.text
        assert (
            "✏️ Телефон" in summary.buttons() and "🗑 Изтривам всичките си данни" in summary.buttons()
        )
        document = next(m for m in replies if m.method == "sendDocument")
        assert document.filename == "my-data.json"
        data = json.loads(document.document)
        [booking] = data["bookings"]
        assert booking["answers"]["reason"] == ANSWERS["reason"]
        assert booking["answers"]["notes"] == ANSWERS["notes"]
        assert data["consents"][0]["language"] == "bg"
        assert len(data["consents"][0]["text_sha256"]) == 64
        assert {r["booking"] for r in data["reminders"]} <= {booking["reference"]}
        assert data["staff_accesses"] == []
        assert {"purposes", "recipients", "retention"} <= set(data)
        assert caption_or_file.chat_id == desi.chat_id


async def test_mydata_in_a_group_shows_nothing(tg, db_url):
    async with running_bot(tg, db_url):
        desi = tg.user(8002, language_code="bg")
        await book_over_telegram(desi)
        group = tg.group(-100999)
        [reply] = await group.send(8002, "/mydata")
        assert "само в личен чат" in reply.text
        assert ANSWERS["name"] not in reply.text
        assert tg.messages_for(-100999) == [reply]


async def test_correction_uses_the_intake_checks_and_updates_the_staff_message(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)) as store:
        desi = tg.user(8003, language_code="bg")
        await book_over_telegram(desi)
        await desi.send("/mydata")
        await desi.click("✏️ Телефон")
        assert "телефонен номер" in desi.last().text
        await desi.send("12")
        assert "Не успях да разпозная този телефонен номер" in desi.messages[-2].text
        await desi.send("+359 88 111 2222")
        assert "Отсега нататък екипът ни ще вижда поправените данни" in desi.last().text
        [staff] = tg.messages_for(STAFF_CHAT)
        assert "+359881112222" in staff.text and ANSWERS["phone"] not in staff.text
        assert staff.buttons()[:2] == ["✅ Потвърждавам", "❌ Отказвам"]
        assert staff.buttons()[-1] == "🔒 Подробности (лично)"
        [booking] = store.client_bookings(8003)
        assert booking.answers["phone"] == "+359881112222"
        await desi.send("/mydata")
        await desi.click("fix:city")
        await desi.send("Стара Загора")
        assert store.client_bookings(8003)[0].answers["city"] == "Стара Загора"


async def test_staff_details_go_privately_to_authorized_staff_and_are_logged(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)):
        desi = tg.user(8004, language_code="bg")
        await book_over_telegram(desi)
        [notice] = tg.messages_for(STAFF_CHAT)
        assert ANSWERS["reason"] not in notice.text and ANSWERS["notes"] not in notice.text
        group = tg.group(STAFF_CHAT)
        stranger = tg.user(901, first_name="Stranger")
        await group.click(901, "🔒 Подробности (лично)")
        assert "Само консултантът на записа или координаторите" in tg.callback_answers[-1]
        assert stranger.messages == []
        staff = tg.user(STAFF_MEMBER, first_name="Elena")
        await group.click(STAFF_MEMBER, "🔒 Подробности (лично)")
        [details] = staff.messages
        assert ANSWERS["reason"] in details.text and ANSWERS["notes"] in details.text
        assert "Изпратих Ви подробностите" in tg.callback_answers[-1]
        assert len(tg.messages_for(STAFF_CHAT)) == 1  # nothing more went into the group
        replies = await desi.send("/mydata")
        assert "Elena" in replies[0].text
        document = next(m for m in replies if m.method == "sendDocument")
        [access] = json.loads(document.document)["staff_accesses"]
        assert access["staff_member"] == "Elena" and access["what"] == "details"
        assert access["role"] == "coordinator" and STAFF_MEMBER not in access.values()
        assert str(STAFF_MEMBER) not in document.document.decode()  # no staff Telegram id
        [booking] = json.loads(document.document)["bookings"]
        planned = replies[0].text.split("напомняния:")[1].split("\n\n")[0]
        assert booking["reference"] in planned and "няма" not in planned.lower()  # the real ones
        due = [r for r in json.loads(document.document)["reminders"] if not r["sent_at"]]
        assert planned.count("•") == len(due) >= 1


async def test_staff_who_never_opened_a_private_chat_are_told_how(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)):
        await book_over_telegram(tg.user(8005, language_code="bg"))
        staff = tg.user(STAFF_MEMBER, first_name="Elena")
        staff.block()  # Telegram answers 403 until they press Start
        await tg.group(STAFF_CHAT).click(STAFF_MEMBER, "🔒 Подробности (лично)")
        assert "отворете личен чат" in tg.callback_answers[-1]
        replies = await tg.user(8005).send("/mydata")
        assert "Elena" not in replies[0].text  # no access happened, none is logged


async def test_deletedata_erases_everything_frees_the_slot_and_cleans_the_staff_message(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)) as store:
        desi = tg.user(8006, language_code="bg")
        await book_over_telegram(desi)
        [booked] = store.bookings_of(8006)
        assert booked.start not in store.free_slots()
        await desi.send("/deletedata")
        await desi.click("Не, оставям данните си")
        assert store.client_bookings(8006)
        await desi.send("/deletedata")
        await desi.click("Да, изтривам всичко")
        assert "Изтрихме всичките Ви данни и отменихме" in desi.last().text
        assert store.client_bookings(8006) == [] and store.load_conversation(8006) is None
        assert booked.start in store.free_slots()  # the slot is free again at once
        kept = store.booking(booked.ref)
        assert kept.status == "cancelled" and kept.user_id == 0 and kept.answers == {}
        [staff] = tg.messages_for(STAFF_CHAT)
        assert "изтрити по негово искане" in staff.text and "отменена" in staff.text
        assert ANSWERS["name"] not in staff.text and staff.buttons() == []
        replies = await desi.send("/mydata")
        assert "Не пазим никакви лични данни" in replies[0].text


async def test_withdraw_consent_erases_like_deletedata(tg, db_url):
    async with running_bot(tg, db_url) as store:
        desi = tg.user(8007, language_code="en")
        await book_over_telegram(desi)
        await desi.send("/withdraw")
        assert "оттеглите съгласието" in desi.last().text  # the language they chose
        await desi.click("erase:yes")
        assert store.client_bookings(8007) == []
        assert store.export_client(8007)["consents"] == []


async def test_no_answer_reaches_the_raw_sqlite_file(tg, sqlite_url):
    async with running_bot(tg, sqlite_url):
        desi = tg.user(8008, language_code="bg")
        await book_over_telegram(desi)
        other = tg.user(8009, language_code="bg")
        await other.send("/start")
        await other.click("lang:bg")
        await other.click("consent:yes")
        await other.send("acme")
        await other.send("Недовършен Клиент")  # an intake in progress is stored too
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    assert len(raw) > 10_000
    for value in [*plain_answers(), "Недовършен Клиент"]:
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value


async def test_no_answer_reaches_postgresql_tables_in_plain_text(pg_url):
    async with FakeTelegram(quiet_period=0.08) as tg, running_bot(tg, pg_url):
        await book_over_telegram(tg.user(8010, language_code="bg"))
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        dump = "\n".join(
            str(row)
            for table in ("conversation", "booking", "consentrecord", "staffaccess")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        )
    engine.dispose()
    assert "enc2:" in dump
    for value in plain_answers():
        assert value not in dump, value


async def test_no_personal_data_in_logs(tg, db_url, caplog):
    configure_logging("DEBUG")  # the bot's own set-up, at its most talkative
    caplog.set_level(logging.DEBUG)
    async with running_bot(tg, db_url, staff_user_ids=(STAFF_MEMBER,)):
        desi = tg.user(8011, language_code="bg")
        await book_over_telegram(desi)
        await desi.send("/mydata")
        await tg.group(STAFF_CHAT).click(STAFF_MEMBER, "🔒 Подробности (лично)")
        await desi.send("/deletedata")
        await desi.click("erase:yes")
    logged = "\n".join(
        record.getMessage() + repr(record.args) + (record.exc_text or "")
        for record in caplog.records
    )
    assert "handled text input, now at name" in logged  # the capture saw the DEBUG records
    assert "erased at their request" in logged
    for value in [*plain_answers(), tg.token]:
        assert value not in logged, value


def test_consent_is_recorded_with_version_language_and_hash(client, store, texts):
    client.begin("en")
    [consent] = store.export_client(client.user_id)["consents"]
    assert consent["notice_version"] == texts.notice_version()
    assert consent["language"] == "en"
    shown = texts("en", "ask.consent", practice="Kabinet.bg")
    assert consent["text_sha256"] == texts.digest(shown)


def test_a_changed_notice_is_agreed_again_and_the_intake_goes_on(client, store, tmp_path):
    client.begin("en")
    client.say("acme")
    edited = tmp_path / "locales"
    import shutil

    import locales

    shutil.copytree(os.path.dirname(locales.__file__), edited)
    (edited / "en" / "privacy.txt").write_text("A new notice, version 2027-01.")
    engine = IntakeEngine(store, Texts(edited))
    again = EngineClient(engine, client.user_id)
    again.say("Maria Ivanova")
    assert "privacy notice has changed" in again.text
    assert again.state()["step"] == "consent" and again.state()["answers"] == {"org": "ACME"}
    again.press("consent:yes")
    assert "first and last name" in again.reply.text
    again.say("Maria Ivanova")
    assert again.state()["answers"]["name"] == "Maria Ivanova"
    assert len(store.export_client(client.user_id)["consents"]) == 2


def test_a_returning_client_with_current_consent_is_not_asked_again(client):
    client.answer_until_summary("en")
    client.press("book:confirm")
    client.command("start")
    client.press("lang:en")
    assert "organization code" in client.reply.text


def test_retention_purge_forgets_idle_intakes_and_anonymizes_old_bookings(client, store):
    client.answer_until_summary("en")
    client.press("book:confirm")
    other = EngineClient(client.engine, 77)
    other.begin("en")
    other.say("acme")
    assert store.purge(abandoned_after_days=30, keep_bookings_days=365) == (0, 0)
    later = store.clock() + timedelta(days=400)
    store.clock = lambda: later
    with store.engine.begin() as connection:  # the idle intake was last touched long ago
        connection.execute(text("UPDATE conversation SET updated_at = '2026-01-01 00:00:00'"))
    idle, anonymized = store.purge(abandoned_after_days=30, keep_bookings_days=365)
    assert (idle, anonymized) == (2, 1)
    assert store.load_conversation(77) is None
    assert store.client_bookings(client.user_id) == []
    assert store.export_client(client.user_id)["consents"] == []


def test_key_file_is_created_private_and_rotation_keeps_data_readable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_DATA_KEY"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}
    cli = [sys.executable, "-m", "bot.cli"]
    chat = subprocess.run(
        [*cli, "chat", "--lang", "en"],
        input="2\n1\nDEMO\nMaria Ivanova\n",
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    key_file = tmp_path / "intake.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert str(key_file) in chat.stderr  # the log says where the key is
    old_key = key_file.read_text()
    rotated = subprocess.run(
        [*cli, "rotate-key"], text=True, capture_output=True, cwd=tmp_path, env=env, check=True
    )
    assert "re-encrypted 1 values" in rotated.stdout
    assert key_file.read_text() != old_key and len(key_file.read_text().split()) == 1
    resumed = subprocess.run(
        [*cli, "chat", "--lang", "en"],
        input="/start\n",
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert "Welcome back" in resumed.stdout and "gender" in resumed.stdout


def test_purge_command_applies_the_retention_rules(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_DATA_KEY"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "ABANDONED_INTAKE_DAYS": "1"}
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*cli, "chat", "--lang", "en"],
        input="2\n1\nDEMO\n",
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    first = subprocess.run(
        [*cli, "purge"], text=True, capture_output=True, cwd=tmp_path, env=env, check=True
    )
    assert first.stdout.startswith("deleted 0 idle intakes, anonymized 0 old bookings")
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE conversation SET updated_at = '2020-01-01 00:00:00'"))
    engine.dispose()
    second = subprocess.run(
        [*cli, "purge"], text=True, capture_output=True, cwd=tmp_path, env=env, check=True
    )
    assert second.stdout.startswith("deleted 1 idle intakes")


SECOND_STAFF = 901


def sealed_values(url: str, cipher) -> list[tuple[str, str]]:
    """Every sealed value of every table, as (token, what the key opens it to)."""
    engine = create_engine(url)
    found = []
    with engine.connect() as connection:
        for model, column, owner in SEALED:
            table = model.__tablename__
            query = f'SELECT "{owner}", "{column}" FROM "{table}"'
            for who, token in connection.execute(text(query)):
                if token:
                    found.append((token, cipher.decrypt(token, place(model, column, who))))
    engine.dispose()
    return found


def decrypted_dump(url: str, cipher) -> str:
    """Every value of every table, sealed ones opened with the key: what the key still reads."""
    engine = create_engine(url)
    values = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                values += [str(value) for value in row]
    engine.dispose()
    return "\n".join(values + [plain for _token, plain in sealed_values(url, cipher)])


async def test_erasure_reaches_every_copy_of_a_client_who_showed_risk_and_booked(tg, db_url):
    staff = (STAFF_MEMBER, SECOND_STAFF)
    async with running_bot(tg, db_url, staff_user_ids=staff) as store:
        desi = tg.user(8020, language_code="bg")
        await book_over_telegram(desi)
        await desi.send("Понякога искам да се самоубия.")  # an alert to the group
        group = tg.group(STAFF_CHAT)
        for member in staff:
            tg.user(member, first_name=f"Staff {member}")
            await group.click(member, "🔒 Подробности (лично)")
        await settled(tg, store)
        private = [m for member in staff for m in tg.messages_for(member)]
        assert private and all(ANSWERS["name"] in m.text for m in private[:1])
        everything = tg.messages_for(STAFF_CHAT) + private
        shown = [m for m in everything if ANSWERS["phone"] in m.text.replace(" ", "")]
        assert len(shown) == 4  # the booking notice, the alert, two private Details
        before = decrypted_dump(db_url, store.cipher)
        assert ANSWERS["name"] in before and ANSWERS["phone"] in before
        sealed = [  # the sealed values that hold her data, by their first characters (a
            # long one may be split across pages in the file)
            token[:64]
            for token, plain in sealed_values(db_url, store.cipher)
            if any(value in plain for value in plain_answers())
        ]
        assert sealed
        if db_url.startswith("sqlite"):
            assert any(token in raw_files(db_url) for token in sealed)  # the check can see them

        await desi.send("/deletedata")
        await desi.click("erase:yes")
        await settled(tg, store)

        for message in [*tg.messages_for(STAFF_CHAT), *private]:
            for value in (ANSWERS["name"], ANSWERS["phone"], ANSWERS["email"]):
                assert value not in message.text, (message.chat_id, message.text)
        assert all(m.edits for m in shown)  # each was edited to say the data was erased
        after = decrypted_dump(db_url, store.cipher)
        for value in plain_answers():
            assert value not in after, value
        files = raw_files(db_url)
        assert not [token for token in sealed if token in files]  # main file, -wal, -journal


async def shown(tg, chat: int, data: str, seconds: float = 5):
    """The newest message to `chat` with a button whose data starts with `data`, once sent."""
    for _ in range(int(seconds / 0.02)):
        for message in reversed(tg.messages_for(chat)):
            found = [b for b in message.button_data() if b.startswith(data)]
            if found:
                return message, found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no button {data} in time")


def raw_files(url: str) -> str:
    """The SQLite files as text (main, -wal, -journal); "" on PostgreSQL."""
    if not url.startswith("sqlite"):
        return ""
    database = Path(url.removeprefix("sqlite:///"))
    paths = database.parent.glob(database.name + "*")
    return b"".join(path.read_bytes() for path in paths).decode("latin-1")


def test_retention_deletes_sent_messages_and_keeps_of_a_copy_only_its_id(store):
    now = store.clock()
    store.enqueue(chat_id=1001, payload={"text": "Your answers: Desi", "reply_markup": None})
    store.enqueue(chat_id=900, payload={"text": "Details: Desi", "reply_markup": None}, about=1001)
    for message in store.claim_outbox():
        store.settle(message.id, sent=True, telegram_message_id=55)
    store.clock = lambda: now + timedelta(hours=48)
    store.purge(abandoned_after_days=30, keep_bookings_days=365, keep_sent_hours=24)
    engine = create_engine(store.engine.url)
    with engine.connect() as connection:
        query = "SELECT chat_id, about, message_id, payload FROM outboxmessage"
        rows = [tuple(row) for row in connection.execute(text(query))]
    engine.dispose()
    assert rows == [(900, 1001, 55, "")]  # the reply is gone; the copy keeps its id, no content


async def test_a_post_waiting_its_turn_when_the_client_erases_is_never_sent(tg, db_url):
    async with running_bot(tg, db_url) as store:
        tg.front.sender.pacer = Pacer(group_limit=1, group_window=6)  # the group at its limit
        desi = tg.user(8030, language_code="bg")
        await book_over_telegram(desi)  # the booking notice takes the group's one message
        # Pushed without waiting for the bot to go quiet: the alert post waits its turn in the
        # sender meanwhile, claimed, which is the point.
        desi.push_text("Понякога искам да се самоубия.")
        await shown(tg, 8030, "safe:")  # "are you safe?": the alert is queued
        desi.push_text("/deletedata")
        sent, _button = await shown(tg, 8030, "erase:yes")
        tg.push_update(tg._callback_query(8030, sent, "erase:yes"))
        await settled(tg, store, timeout=20)
        [notice] = tg.messages_for(STAFF_CHAT)  # the alert post was dropped, not sent late
        assert ANSWERS["name"] not in notice.text and ANSWERS["phone"] not in notice.text


def test_details_go_to_the_bookings_consultant_and_the_coordinators_only(store, texts):
    hours = "mon-fri 08:00-20:00"
    ana, bea = (
        store.add_consultant(
            name=name, telegram_user_id=ident, languages="en", ways="video", hours=hours
        )
        for name, ident in (("Ana", 601), ("Bea", 602))
    )
    booked = store.book(
        hold_ref=None, start=store.free_slots("video", "en")[0], user_id=3401, chat_id=3401,
        org_code="ACME", way="video", consult_lang="en", client_lang="en",
        answers={"name": "Ivo Ivanov", "reason": "I cannot sleep"}, urgent="self_harm",
    )  # fmt: skip
    booking = store.booking(booked.ref)
    theirs, other = (ana, bea) if booking.consultant_id == ana.id else (bea, ana)
    engine = IntakeEngine(store, texts, IntakeConfig(staff_ids=frozenset({700}), staff_lang="en"))
    for reader in (theirs.telegram_user_id, 700):  # the consultant, a coordinator
        _answer, details = engine.staff_details(ref=booked.ref, staff_user_id=reader)
        assert "I cannot sleep" in "".join(details) and "signs of self-harm" in details[0]
    answer, details = engine.staff_details(ref=booked.ref, staff_user_id=other.telegram_user_id)
    assert details == [] and "another consultant" in answer
    notice = render.staff_text(engine.ctx, booking)
    assert "URGENT" in notice and "self-harm" not in notice  # the group: that, not why
    store.erase_client(3401)
    assert store.booking(booked.ref).urgent is None  # the kind of risk goes with the rest


def test_mydata_after_a_move_and_a_cancel_tells_each_item_as_it_is(client, store, engine):
    client.answer_until_summary("en")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    store.log_staff_access(
        client_user_id=client.user_id, staff_user_id=601, staff_name="Ana Petrova",
        booking_ref=booking.ref, what="details",
    )  # fmt: skip
    client.command("mybooking")
    client.press(f"mybooking:move:{booking.ref}")
    client.press([b for b in client.buttons() if b.startswith("day:")][1])  # a later day
    client.press(next(b for b in client.buttons() if b.startswith("time:") and b != "time:back"))
    [moved] = store.bookings_of(client.user_id)
    assert moved.start != booking.start
    t = engine.t
    summary, file = client.command("mydata").replies
    assert t.record(moved.start, "en") in summary.text  # the booking's time now, in its zone
    assert t.record(booking.start, "en") not in summary.text
    for hours in (24, 1):  # the reminders really planned, for the new time
        due = t.stamp(moved.start - timedelta(hours=hours), "en")
        assert due in summary.text
    assert "Sofia time" in summary.text or "Bulgarian time" in summary.text
    assert "Ana Petrova" in summary.text and "601" not in summary.text
    [access] = json.loads(file.document[1])["staff_accesses"]
    assert access["role"] == "coordinator" and "601" not in json.dumps(access)
    client.command("mybooking")
    client.press(f"mybooking:cancel:{booking.ref}")
    client.press(f"mybooking:cancelyes:{booking.ref}")
    summary, _file = client.command("mydata").replies
    assert "cancelled" in summary.text.lower()
    reminders = summary.text.split("Reminders planned")[1].split("\n\n")[0]
    assert "none" in reminders.lower() and t.stamp(moved.start, "en")[:6] not in reminders


async def test_erasure_of_a_waiting_client_edits_the_groups_note_and_keeps_nothing(tg, db_url):
    async with running_bot(tg, db_url) as store:
        fully_booked(store)  # Bulgarian over video: nothing free for her
        maria = tg.user(8040, language_code="en")
        await walk_intake(tg, store, maria, until="day")
        await maria.click("waitlist:join")
        await settled(tg, store)
        [note] = [m for m in tg.messages_for(STAFF_CHAT) if "Maria Ivanova" in m.text]
        assert "+359888123456" in decrypted_dump(db_url, store.cipher)
        await maria.send("/deletedata")
        await maria.click("erase:yes")
        await settled(tg, store)
        assert note.edits and "Maria" not in note.text and "премахнато" in note.text
        after = decrypted_dump(db_url, store.cipher)
        assert "Maria Ivanova" not in after and "+359888123456" not in after
        assert store.export_client(8040)["waiting_list"] == []
