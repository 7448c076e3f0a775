"""The intake conversation through the engine alone, no Telegram."""

from datetime import timedelta

from sqlmodel import Session, select

from dialogs.engine import IntakeEngine
from dialogs.messages import DEMO_CODE, IntakeConfig
from storage.models import Booking
from tests.driver import EngineClient


def test_full_english_intake_books_and_tells_staff(client, store):
    client.answer_until_summary("en")
    assert "Please check your answers" in client.text
    assert "Maria Ivanova" in client.text and "+359888123456" in client.text
    assert "maria@example.com" in client.text.lower()
    client.press("book:confirm")
    assert "The time is held for you" in client.text
    assert client.last.events == ["intake_completed"]  # counted in /metrics
    assert "Tuesday, 24 November 2026, 08:00 Sofia time" in client.text
    [booked] = store.bookings_of(client.user_id)
    assert booked.ref in client.text
    [staff] = client.staff
    assert booked.ref in staff and "Acme Ltd" in staff and "Maria Ivanova" in staff
    assert "+359888123456" in staff and "Maria@example.com" in staff  # domain normalized
    assert "anxious" not in staff  # free text stays out of the group
    assert client.state()["step"] == "done"


def test_full_bulgarian_intake_uses_bulgarian_dates_and_labels(client, store):
    client.answer_until_summary("bg", name="Мария Иванова", city="Пловдив")
    assert "Моля, проверете отговорите си" in client.text
    assert "Пол: Жена" in client.text
    client.press("book:confirm")
    assert "вторник, 24 ноември 2026 г., 08:00 ч. по българско време" in client.text
    assert "Видео" in client.text
    assert "Нова заявка" in client.staff[0] and "на български" in client.staff[0]


def test_every_answer_is_saved_after_each_step(client):
    client.begin("en")
    client.say("ACME")
    client.say("Maria Ivanova")
    state = client.state()
    assert state["step"] == "gender"
    assert state["answers"] == {"org": "ACME", "name": "Maria Ivanova"}


def test_restarted_engine_resumes_at_the_same_question(client, store, texts):
    client.begin("en")
    client.say("acme")
    client.say("Maria Ivanova")
    again = EngineClient(IntakeEngine(store, texts), user_id=client.user_id)
    again.command("start")
    assert "Welcome back" in again.text and "What is your gender?" in again.text
    again.press("gender:man")
    assert again.state()["answers"]["name"] == "Maria Ivanova"


def test_invalid_answers_explain_and_ask_again_keeping_earlier_answers(client):
    client.begin("en")
    client.say("acme")
    cases = [
        ("name", "Maria", "both your first and your last name"),
        ("name", "Maria 2Ivanova", "only letters"),
        ("name", "A " + "b" * 100, "longer than 100"),
    ]
    for step, bad, expected in cases:
        client.say(bad)
        assert expected in client.text
        assert client.state()["step"] == step
        assert client.reply.text.endswith("What is your first and last name?")
    client.say("Maria Ivanova")
    client.press("gender:woman")
    for bad, expected in [
        ("thirty", "whole number"),
        ("121", "between 18 and 120"),
        ("3.5", "whole number"),
    ]:
        client.say(bad)
        assert expected in client.text and client.state()["step"] == "age"
    client.say("34")
    client.say("12345")
    assert "could not read that phone number" in client.text
    client.say("+359 888 123 456")
    client.say("maria@")
    assert "e-mail address" in client.text
    client.say("maria@example.com")
    client.say("S")
    assert "2 to 80" in client.text
    client.say("Sofia")
    client.say("sad")
    assert "in a few words" in client.text
    assert client.state()["answers"] == {
        "org": "ACME",
        "name": "Maria Ivanova",
        "gender": "woman",
        "age": 34,
        "phone": "+359888123456",
        "email": "maria@example.com",
        "city": "Sofia",
    }


def test_organization_code_ignores_case_and_spaces_and_helps_after_three_misses(client, store):
    client.begin("en")
    client.say("nope")
    client.say("nope")
    assert "private@kabinet.bg" not in client.text
    client.say("nope")
    assert "couldn't find" in client.text and "private@kabinet.bg" in client.text
    store.disable_org("ACME")
    client.say("acme")
    assert client.state()["step"] == "org"
    store.add_org(code="Acme", name="Acme Ltd")
    client.say(" a c m e ")
    assert client.state()["step"] == "name"


def test_age_under_18_ends_intake_and_forgets_answers(client):
    client.begin("en")
    client.say("acme")
    client.say("Maria Ivanova")
    client.press("gender:woman")
    client.say("16")
    assert "You wrote that you are 16" in client.text
    client.press("age:yes")
    assert "for adults" in client.text and "116 111" in client.text
    assert client.state() is None


def test_age_typo_under_18_can_be_corrected(client):
    client.begin("en")
    client.say("acme")
    client.say("Maria Ivanova")
    client.press("gender:woman")
    client.say("3")
    client.press("age:no")
    assert "How old are you?" in client.text
    client.say("33")
    assert client.state()["answers"]["age"] == 33 and client.state()["step"] == "phone"


def test_phone_accepts_own_contact_only(client):
    client.begin("en")
    for answer in ("acme", "Maria Ivanova"):
        client.say(answer)
    client.press("gender:woman")
    client.say("34")
    assert client.reply.contact_button == "📱 Share my phone number"
    client.share_contact("359888000111", owner=999)
    assert "your own number" in client.text and client.state()["step"] == "phone"
    client.share_contact("359888000111")
    assert client.state()["answers"]["phone"] == "+359888000111"


def test_photos_and_stickers_get_a_kind_message_and_the_question_again(client):
    client.begin("bg")
    client.send_photo()
    assert "само текстови съобщения" in client.text
    assert "кодът на Вашата организация" in client.reply.text


def test_declining_consent_stores_nothing_and_says_how_to_come_back(client):
    client.command("start")
    client.press("lang:en")
    client.press("consent:no")
    assert "/start" in client.text
    assert client.state() is None


def test_language_switch_midway_asks_the_same_question_in_the_new_language(client):
    client.begin("bg")
    client.say("acme")
    client.command("language")
    assert {"lang:bg", "lang:en"} <= set(client.buttons())
    client.press("lang:en")
    assert "What is your first and last name?" in client.reply.text
    assert client.state()["answers"] == {"org": "ACME"}


def test_typed_label_picks_a_button(client):
    client.command("start")
    client.say("english")
    client.say("I agree")
    client.say("acme")
    client.say("Maria Ivanova")
    client.say("prefer NOT to say")
    assert client.state()["answers"]["gender"] == "undisclosed"


def test_edit_from_summary_asks_again_and_returns_to_summary(client):
    client.answer_until_summary("en")
    client.press("edit:email")
    assert client.reply.text == "What is your e-mail address?"
    client.say("new@example.com")
    assert "Saved." in client.text and "E-mail: new@example.com" in client.text
    client.press("edit:time")
    assert client.first_free("day:")
    client.press("day:2026-11-25")
    client.press("time:2026-11-25T15:00")
    assert "Wednesday, 25 November 2026, 15:00 Sofia time" in client.text
    assert client.state()["step"] == "summary"


def test_an_intake_counts_once_for_its_organization_when_the_code_is_given(client, store):
    client.answer_until_summary("en")
    store.add_org(code="BETA", name="Beta AD")
    client.press("edit:org")
    client.say("beta")  # an edit: the same intake, not a new one
    assert store.intakes_started("2026-11") == {"ACME": 1}  # MONDAY is in November
    assert store.intakes_started("2026-12") == {}


def test_stale_and_forged_buttons_change_nothing(client):
    client.answer_until_summary("en")
    before = client.state()
    for data in (
        "gender:man",
        "time:2020-01-01T10:00",
        "edit:nonsense",
        "lang:xx",
        "x" * 64,
        "cancel:yes",
        "age:yes",
    ):
        client.press(data)
        assert client.state() == before, data
    assert "earlier question" in client.text


def test_skipped_optional_answers_show_as_skipped(client):
    client.answer_until_summary("en", experience="skip:experience")
    assert "Previous experience: (skipped)" in client.text
    assert "Anything else: (skipped)" in client.text


def test_cancel_asks_first_then_deletes_the_answers(client):
    client.begin("en")
    client.say("acme")
    client.command("cancel")
    client.press("cancel:no")
    assert "first and last name" in client.reply.text and client.state()["answers"]
    client.command("cancel")
    client.press("cancel:yes")
    assert "deleted" in client.text and client.state() is None


def test_help_and_privacy_come_back_to_the_current_question(client, texts):
    client.begin("en")
    client.command("help")
    assert "/cancel" in client.text and "organization code" in client.reply.text
    client.command("privacy")
    notice = texts.privacy_notice("en", abandoned_days=30, booking_days=365)
    assert notice in client.text and "after 30 days" in notice and "{" not in notice
    client.command("frobnicate")
    assert "/help" in client.text


def test_a_held_slot_is_not_offered_to_anyone_else(engine, store):
    first, second = EngineClient(engine, 1), EngineClient(engine, 2)
    first.answer_until_summary("en", time="time:2026-11-24T10:00")
    second.answer_until_summary("en")
    assert second.state()["step"] == "summary"
    assert second.state()["answers"]["time"] != "2026-11-24T10:00"
    second.press("edit:time")
    second.press("day:2026-11-24")
    assert "time:2026-11-24T10:00" not in second.buttons()
    second.press("time:2026-11-24T10:00")  # an old button, or a forged one
    assert "no longer free" in second.text


def test_a_lapsed_hold_lets_another_client_book_and_the_first_gets_the_nearest(engine, store):
    first, second = EngineClient(engine, 1), EngineClient(engine, 2)
    first.answer_until_summary("en", time="time:2026-11-24T10:00")
    later = store.clock() + timedelta(minutes=11)  # the 10-minute hold has lapsed
    store.clock = lambda: later
    second.answer_until_summary("en", time="time:2026-11-24T10:00")
    second.press("book:confirm")
    first.press("book:confirm")
    assert "The time is held for you" in second.text
    assert "someone booked that time" in first.text
    offered = first.buttons()
    assert offered == [
        "time:2026-11-24T08:00",
        "time:2026-11-24T09:00",
        "time:2026-11-24T11:00",
        "time:back",
    ]
    first.press(offered[0])
    assert first.state()["step"] == "summary"
    first.press("book:confirm")
    assert "The time is held for you" in first.text
    with Session(store.engine) as session:
        starts = [b.slot_start for b in session.exec(select(Booking)).all()]
    assert len(starts) == len(set(starts)) == 2


def test_long_free_text_is_shortened_in_the_summary(client):
    long_reason = "I feel tired. " * 140
    client.answer_until_summary("en", reason=long_reason.strip())
    assert len(client.reply.text) < 4096
    assert "…" in client.reply.text
    client.press("book:confirm")
    [booking] = client.engine.store.client_bookings(client.user_id)
    assert booking.answers["reason"] == long_reason.strip()


def test_start_after_booking_mentions_it_and_begins_anew(client):
    client.answer_until_summary("en")
    client.press("book:confirm")
    client.command("start")
    assert "You already have a consultation booked" in client.text
    assert client.state()["step"] == "language"


def test_the_demo_code_is_refused_unless_the_admin_accepts_it(store, texts):
    store.add_org(code=DEMO_CODE, name="Demo organization")
    refused = EngineClient(IntakeEngine(store, texts), user_id=3001)
    refused.command("start")
    refused.press("lang:bg")
    refused.press("consent:yes")
    said = refused.say(DEMO_CODE).replies[0].text
    assert said == texts("bg", "error.org_unknown")
    assert refused.state()["step"] == "org"
    accepted = EngineClient(
        IntakeEngine(store, texts, IntakeConfig(accept_demo_code=True)), user_id=3002
    )
    accepted.command("start")
    accepted.press("lang:bg")
    accepted.press("consent:yes")
    accepted.say(DEMO_CODE)
    assert accepted.state()["step"] == "name" and accepted.state()["answers"]["org"] == DEMO_CODE


UNTIL_REASON = ("acme", "Мария Иванова", "gender:woman", "34", "0888123456", "m@x.bg", "Sofia")


def test_a_long_message_is_kept_whole_and_a_book_keeps_its_first_part(client, engine):
    client.begin(
        "bg", "acme", "Мария Иванова", "gender:woman", "34", "0888123456", "m@x.bg", "Sofia"
    )
    assert client.state()["step"] == "reason"
    letter = ("Не мога да спя и всяка вечер мисля за работата и за семейството си. " * 40).strip()
    assert len(letter) > 2000  # a long message from a phone: kept whole
    client.say(letter)
    assert client.state()["answers"]["reason"] == letter

    client = EngineClient(engine, user_id=2024, language_code="bg")
    client.begin(
        "bg", "acme", "Мария Иванова", "gender:woman", "34", "0888123456", "m@x.bg", "Sofia"
    )
    book = " ".join(f"дума{n}" for n in range(2500))  # about 20,000 characters
    shown = client.say(book).replies
    kept = client.state()["answers"]["reason"]
    assert (
        11_800 <= len(kept) <= 12_000 and book.startswith(kept) and kept.endswith(kept.split()[-1])
    )
    rest = book[len(kept) :].strip()
    assert shown[0].text.startswith("Написаното е повече") and kept.split()[-1] in shown[0].text
    assert "".join(reply.text for reply in shown[1:-1]) == rest  # nothing lost: the rest returned
    assert client.state()["step"] != "reason"  # and the intake goes on


def test_text_typed_at_the_language_menu_is_not_taken_as_an_answer(client):
    client.begin("bg", "acme")
    client.command("language")
    shown = client.say("Мария Иванова")  # meant as the name, typed while the menu is up
    assert client.state()["answers"] == {"org": "ACME"} and client.state()["step"] == "name"
    assert shown.replies[0].text.startswith("Първо изберете език")
    assert {"lang:bg", "lang:en"} <= set(client.buttons())  # the menu again
    client.say("английски")  # a language's name in either language picks it
    assert "What is your first and last name?" in client.reply.text
    client.say("Maria Ivanova")
    assert client.state()["answers"]["name"] == "Maria Ivanova"


def test_typed_back_works_as_the_back_button(client):
    client.begin("bg", "acme", "Мария Иванова")
    assert client.state()["step"] == "gender"
    client.say("назад")
    assert client.state()["step"] == "name"
    client.say("BACK")  # the id works in any language
    assert client.state()["step"] == "org"
    assert client.state()["answers"]["name"] == "Мария Иванова"  # nothing given is lost


def test_an_edit_from_the_summary_can_be_left_as_it_was(client):
    client.answer_until_summary("en")
    email = client.state()["answers"]["email"]
    client.press("edit:email")
    assert "unedit:email" in client.buttons()
    client.press("unedit:email")
    assert client.state()["step"] == "summary" and client.state()["answers"]["email"] == email
    assert f"E-mail: {email}" in client.text and "Nothing changed" in client.text
    client.press("edit:time")  # the day and time, then typed "back"
    assert "unedit:day" in client.buttons()
    before = client.state()["answers"]["time"]
    client.say("back")
    assert client.state()["step"] == "summary" and client.state()["answers"]["time"] == before
    client.press("edit:notes")  # skipped: leaving it skipped is a way back too
    client.press("unedit:notes")
    assert client.state()["step"] == "summary"


def test_a_move_can_be_given_up_and_the_booking_keeps_its_time(client, store):
    client.answer_until_summary("en")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    client.command("mybooking")
    client.press(f"mybooking:move:{booking.ref}")
    keep = f"mybooking:keep:{booking.ref}"
    assert keep in client.buttons()
    client.press(client.first_free("day:"))
    assert keep in client.buttons()  # on the times too
    client.press(keep)
    assert client.state()["step"] == "done" and client.state()["rescheduling"] is None
    assert "stays as it is" in client.text
    [kept] = store.bookings_of(client.user_id)
    assert kept.start == booking.start
    client.command("mybooking")
    client.press(f"mybooking:move:{booking.ref}")
    client.say("назад")  # typed, in either language
    assert client.state()["rescheduling"] is None


def test_the_rest_of_a_message_telegram_cut_in_two_joins_the_answer_it_belongs_to(client):
    client.begin("bg", *UNTIL_REASON)
    first = ("Откакто се разделихме, не мога да спя и мисля само за това. " * 70)[:4096]
    rest = "И още нещо, което е важно за мен: страхувам се да остана сама. " * 20
    client.say(first)  # the reason, as Telegram delivers a long message: 4,096 characters
    assert client.state()["step"] == "way"
    shown = client.say(rest)  # its second part, arriving at the question with buttons
    assert client.state()["answers"]["reason"] == first.strip() + "\n" + rest.strip()
    assert "добавих и това към отговора „Какво Ви води“" in shown.replies[0].text
    assert client.state()["step"] == "way"  # the question is asked again, nothing else changed
    client.say("видео?")  # a short text there is still just not one of the buttons
    assert client.state()["answers"]["reason"].endswith(rest.strip())


def test_control_characters_never_reach_an_answer(client):
    # A NUL in text is refused by PostgreSQL: it crashed the update there (the PG half runs this).
    client.begin("en", "acme", "Maria\x00 Iva\x07nova")
    assert client.state()["answers"]["name"] == "Maria Ivanova"
    client.say("Woman\x1b")
    client.say("34")
    client.say("0888\x00123456")
    assert client.state()["answers"]["phone"] == "+359888123456"
    client.say("m@x.bg")
    client.say("Sofia")
    client.say("I can't\x00 sleep at night")  # free text: stored as written, minus the NUL
    assert client.state()["answers"]["reason"] == "I can't sleep at night"
