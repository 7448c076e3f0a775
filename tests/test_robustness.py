"""Any input at any time: Back, idle reminders, commands mid-question, random input, limits."""

import string
import time
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, make_url, text

from bot.telegram import TelegramFront
from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from dialogs.messages import IntakeConfig, State, split_message
from dialogs.parsers import FREE_TEXT_MAX
from dialogs.questions import BY_KEY, QUESTIONS
from storage import Schedule, Store, db, open_database
from tests.conftest import CIPHER, MONDAY
from tests.driver import EngineClient
from tests.harness import STAFF_CHAT, running_bot


def test_back_returns_to_the_previous_question_keeping_every_answer(client):
    client.begin("en")
    assert not [b for b in client.buttons() if b.startswith("back:")]  # not on the first
    client.say("acme")
    client.say("Maria Ivanova")
    assert client.buttons()[-1] == "back:gender"
    client.press("back:gender")
    assert "first and last name" in client.reply.text
    client.press("back:name")
    assert "organization code" in client.reply.text
    assert client.state()["answers"] == {"org": "ACME", "name": "Maria Ivanova"}
    client.say("acme")
    client.say("Maria Petrova")
    assert client.state()["answers"]["name"] == "Maria Petrova"


def test_back_from_the_phone_keyboard_and_from_the_day(client):
    client.begin("en")
    for answer in ("acme", "Maria Ivanova"):
        client.say(answer)
    client.press("gender:woman")
    client.say("34")
    assert client.reply.contact_button and client.buttons() == ["back:phone"]
    client.say("‹ Back")  # a reply-keyboard key arrives as its label
    assert "How old are you?" in client.reply.text
    client.say("34")
    client.say("0888 123 456")
    for answer in ("m@example.com", "Sofia", "Anxious for months about work."):
        client.say(answer)
    client.press("way:video")
    client.press("consult_lang:bg")
    client.press("back:day")
    assert "language would you like the consultation" in client.reply.text


def test_every_command_works_mid_question_and_returns_there(client):
    client.begin("en")
    client.say("acme")
    for command in ("help", "privacy", "start", "nonsense", "language"):
        client.command(command)
        if command != "language":
            assert "first and last name" in client.reply.text, command
    client.press("lang:bg")
    assert "Как се казвате?" in client.reply.text


def test_an_idle_intake_gets_one_gentle_reminder(engine, store):
    waiting, cancelled, finished = (EngineClient(engine, n) for n in (11, 12, 13))
    for who in (waiting, cancelled):
        who.begin("en")
        who.say("acme")
    cancelled.command("cancel")
    cancelled.press("cancel:yes")
    finished.answer_until_summary("en")
    finished.press("book:confirm")
    day = timedelta(hours=24)
    assert store.idle_intakes(day) == []
    later = store.clock() + timedelta(hours=25)
    store.clock = lambda: later
    assert store.idle_intakes(day) == [11]
    assert store.claim_nudge(11, day) is True
    assert store.claim_nudge(11, day) is False  # once only, even with two instances
    chat_id, outcome = engine.nudge(11)
    assert chat_id == 11 and "A while ago you started" in outcome.replies[0].text
    assert "first and last name" in outcome.replies[-1].text
    assert store.idle_intakes(day) == []
    waiting.say("Maria Ivanova")  # coming back re-arms the reminder for a later pause
    assert store.load_conversation(11)["answers"]["name"] == "Maria Ivanova"


async def test_idle_reminder_is_sent_over_telegram_once(tg, db_url):
    async with running_bot(tg, db_url) as store:
        eva = tg.user(9100, language_code="en")
        await eva.send("/start")
        await eva.click("lang:en")
        await eva.click("consent:yes")
        from bot.wiring import build_engine
        from tests.harness import settings_for

        _store, engine, texts = build_engine(settings_for(tg, db_url))
        front = TelegramFront(engine, texts, STAFF_CHAT, idle_for=timedelta(hours=24))
        front.bot = tg_bot = _bot_for(tg)
        async with tg_bot:
            later = store.clock() + timedelta(hours=30)
            engine.store.clock = lambda: later
            await front.nudge_idle()
            await front.nudge_idle()
            await front.drain_outbox()
        nudges = [m for m in eva.messages if "A while ago" in m.text]
        assert len(nudges) == 1


def _bot_for(tg):
    from telegram import Bot

    return Bot(tg.token, base_url=tg.base_url)


# Random input at every step

ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
NASTY_TEXT = st.one_of(
    st.text(ALPHABET, max_size=50),
    st.sampled_from(["", " ", "\n\t", "😀🙏", "مرحبا بالعالم", "\u202eevil", "\x00\x07", "/"]),
    st.just("x" * 10_000),
    st.sampled_from(
        [
            "acme",
            "Maria Ivanova",
            "34",
            "0888123456",
            "a@b.co",
            "Sofia",
            "I need someone to talk to about work.",
        ]
    ),
)
FORGED = st.one_of(
    st.text(string.printable, min_size=1, max_size=64),
    st.sampled_from(
        [
            "time:2020-01-01T10:00",
            "day:1999-01-01",
            "gender:alien",
            "edit:nope",
            "book:confirm",
            "skip:name",
            "back:org",
            "way:teleport",
            "x:" + "9" * 60,
        ]
    ),
)


TEXTS = Texts()


def _fresh_engine() -> IntakeEngine:
    store = Store(open_database("sqlite://"), Schedule(), CIPHER, clock=lambda: MONDAY)
    store.add_org(code="ACME", name="Acme")
    return IntakeEngine(store, TEXTS, IntakeConfig(staff_ids=frozenset({1})))


def _valid(state: dict | None) -> None:
    if state is None:
        return
    loaded = State.load(state)
    assert loaded.lang in ("bg", "en")
    assert loaded.step in {"language", "consent", "summary", "done", *BY_KEY}
    for key, value in loaded.answers.items():
        question = BY_KEY[key]
        if question.parse and key != "org":
            assert question.parse(str(value)) == value, (key, value)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_input_never_crashes_and_forged_buttons_change_nothing(data):
    engine = _fresh_engine()
    client = EngineClient(engine, 42, language_code=data.draw(st.sampled_from(["bg", "en", "de"])))
    client.command("start")
    for _ in range(data.draw(st.integers(5, 40))):
        offered = [b.data for r in client.last.replies for row in r.buttons for b in row]
        action = data.draw(
            st.sampled_from(
                ["press", "press", "press", "text", "forged", "contact", "other", "command"]
            )
        )
        if action == "press" and offered:
            client.press(data.draw(st.sampled_from(offered)))
        elif action == "text":
            client.say(data.draw(NASTY_TEXT))
        elif action == "forged":
            forged = data.draw(FORGED)
            before = client.state()
            client.press(forged)
            if forged not in offered and not forged.startswith(
                ("lang:", "crisis:", "fix:", "erase:", "cancel:", "age:")
            ):
                after = client.state()
                assert ((after or {}).get("answers") or {}) == ((before or {}).get("answers") or {})
        elif action == "contact":
            client.share_contact("359888111222", owner=data.draw(st.sampled_from([42, 7])))
        elif action == "other":
            client.send_photo()
        else:
            client.command(
                data.draw(
                    st.sampled_from(
                        ["start", "help", "language", "privacy", "cancel", "mydata", "x", ""]
                    )
                )
            )
        assert client.last.replies, "every input gets an answer"
        _valid(client.state())


# Telegram's limits

LONGEST = {
    "org": "ACME",
    "name": "Ана-Мария " + "Д" * 89,
    "phone": "+359888123456",
    "email": "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "com",
    "city": "Г" * 80,
    # The longest free text kept whole: FREE_TEXT_MAX characters of words (three messages' worth).
    "reason": ("Щщщщщ " * FREE_TEXT_MAX)[: FREE_TEXT_MAX - 1] + "щ",
    "notes": ("Юююю " * FREE_TEXT_MAX)[: FREE_TEXT_MAX - 1] + "ю",
}


def test_no_message_or_button_exceeds_telegram_limits_with_the_longest_answers(engine, store):
    for lang in ("bg", "en"):
        client = EngineClient(engine, 300 if lang == "bg" else 301)
        seen = []
        original = client._do

        def recording(inp, original=original, seen=seen):
            out = original(inp)
            seen.append(out)
            return out

        client._do = recording
        client.answer_until_summary(
            lang, **{k: v for k, v in LONGEST.items() if k not in ("phone",)}
        )
        client.press("edit:reason")
        client.say(LONGEST["reason"])
        client.press("book:confirm")
        client.command("mydata")
        client.command("help")
        client.command("privacy")
        client.say("I want to kill myself")
        [booking] = store.client_bookings(client.user_id)
        engine.config = IntakeConfig(staff_ids=frozenset({1}), staff_lang=lang)
        _answer, details = engine.staff_details(ref=booking.ref, staff_user_id=1)
        texts = [r.text for out in seen for r in out.replies]
        texts += [n.text for out in seen for n in out.staff] + details
        assert LONGEST["reason"] in "".join(details)  # the consultant gets every word
        data = [b.data for out in seen for r in out.replies for row in r.buttons for b in row]
        assert max(len(t) for t in texts) <= 4096
        assert all(1 <= len(d.encode()) <= 64 for d in data)
        labels = [b.label for out in seen for r in out.replies for row in r.buttons for b in row]
        assert labels and all(label.strip() for label in labels)
        assert any(len(t) > 2500 for t in texts)  # the long answers really were shown
        engine.config = IntakeConfig()


def test_every_question_has_a_label_or_is_part_of_another():
    for question in QUESTIONS:
        assert question.label or question.key == "day"


def test_a_connection_idle_across_a_database_restart_is_replaced_before_use(pg_url, monkeypatch):
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.2)
    store = Store(open_database(pg_url), Schedule(), CIPHER, clock=lambda: MONDAY)
    store.add_org(code="ACME", name="Acme Ltd")  # a pooled connection, now idle
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # what a restart does to every open connection
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": make_url(pg_url).database},
        ).scalar()
    admin.dispose()
    assert ended >= 1
    time.sleep(0.3)
    assert store.find_active_org("acme") is not None  # no error: a fresh connection was used
    store.engine.dispose()


def test_a_long_text_is_split_in_order_and_never_inside_a_word():
    long_line = " ".join(f"word{n}" for n in range(2000))  # about 17,000 characters
    parts = split_message("Heading\nName: Maria\n" + long_line + "\nLast line", limit=4096)
    assert parts[0].startswith("Heading\nName: Maria") and parts[-1].endswith("Last line")
    assert all(len(part) <= 4096 for part in parts)
    words = " ".join(parts).replace("\n", " ").split()
    assert words == ["Heading", "Name:", "Maria", *long_line.split(), "Last", "line"]
