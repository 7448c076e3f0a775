"""Dates read as a Bulgarian writes them, in every context and every catalog sentence; the
confirmation says what the client has; each time a client sees names its zone."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts
from storage import HOLD_MINUTES, Schedule, Store, open_database
from tests.conftest import CIPHER, MONDAY
from tests.driver import EngineClient
from tests.test_translations import catalog, placeholders

SOFIA = ZoneInfo("Europe/Sofia")
LONDON = ZoneInfo("Europe/London")
WEEKDAY = "понеделник|вторник|сряда|четвъртък|петък|събота|неделя"
MONTH = "януари|февруари|март|април|май|юни|юли|август|септември|октомври|ноември|декември"
# "на вторник, 8 декември" (it is "във вторник"), "в вторник" (it is "във"), and a year after
# a month without " г." are the mistakes; "ч.." is a sentence ending on "ч." with one more stop.
WRONG = {
    "на before a weekday": re.compile(rf"(?<!\w)на ({WEEKDAY})\b", re.I),
    "в before в/ф": re.compile(r"(?<!\w)в [вф]", re.I),
    "във before another letter": re.compile(r"(?<!\w)във [^вф]", re.I),
    "a year without г.": re.compile(rf"(?:{MONTH}) \d{{4}}(?! г\.)"),
    "a double full stop": re.compile(r"(?<!\.)\.\.(?!\.)"),
}
# A moment on each day of a week, across a year's end and both clock changes.
MOMENTS = [
    datetime(2026, 12, 7, 9, 0, tzinfo=SOFIA) + timedelta(days=n, hours=n) for n in range(7)
] + [
    datetime(2027, 1, 1, 19, 0, tzinfo=SOFIA),
    datetime(2027, 3, 29, 8, 0, tzinfo=SOFIA),
    datetime(2027, 10, 31, 14, 30, tzinfo=SOFIA),
]


def mistakes(text: str) -> list[str]:
    return [name for name, pattern in WRONG.items() if pattern.search(text)]


def contexts(texts: Texts, moment: datetime, lang: str) -> dict[str, str]:
    """Every way a date is rendered, with and without the client's own zone."""
    return {
        "button": texts.day(moment.date(), lang),
        "heading": texts.long_day(moment.date(), lang),
        "on_day": texts.on_day(moment.date(), lang),
        "at": texts.at(moment, lang),
        "at_own": texts.at(moment, lang, LONDON),
        "reminder": texts.at(moment, lang, LONDON, year=False),
        "record": texts.record(moment, lang),
        "record_own": texts.record(moment, lang, LONDON),
        "staff": texts.when(moment, lang),
        "stamp": texts.stamp(moment, lang),
        "times_note": texts.times_note(moment, lang, LONDON),
    }


def test_the_checks_catch_the_old_mistakes():
    assert mistakes("Кой час на вторник, 8 декември 2026 Ви е удобен?") == [
        "на before a weekday",
        "a year without г.",
    ]
    assert mistakes("в вторник") == ["в before в/ф"]
    assert mistakes("…от 19:00 ч..") == ["a double full stop"]
    assert mistakes("във вторник, 8 декември 2026 г., в 19:00 ч. по българско време") == []


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%a-%Y-%m-%d"))
def test_every_bulgarian_date_context_reads_right(texts: Texts, moment: datetime):
    rendered = contexts(texts, moment, "bg")
    wrong = {name: text for name, text in rendered.items() if mistakes(text)}
    assert wrong == {}
    assert rendered["heading"].endswith(f"{moment.year} г.")
    assert rendered["on_day"].startswith("във " if moment.weekday() == 1 else "в ")
    assert rendered["at"].endswith("ч. по българско време")


# Which renderings the code puts into a placeholder of that name: a {when} is a booked time in
# any of its forms, a {day} a day, a {date} when something happened.
FILLS = {
    "when": ("at", "at_own", "reminder", "record", "record_own", "staff"),
    "day": ("on_day", "heading"),
    "date": ("stamp",),
}


def test_dates_read_right_in_every_bulgarian_sentence_of_the_catalog(texts: Texts):
    """Each catalog text with a date in it, with each rendering of several dates put in."""
    filled = 0
    for msgid, text in catalog("bg").items():
        names = placeholders(text)
        for dated in names & set(FILLS):
            for moment in MOMENTS:
                rendered = contexts(texts, moment, "bg")
                for form in FILLS[dated]:
                    params = dict.fromkeys(names, "Мария") | {dated: rendered[form]}
                    sentence = texts("bg", msgid, **params)
                    assert mistakes(sentence) == [], (msgid, form, sentence)
                    filled += 1
    assert filled > 200


def test_the_weekday_takes_в_or_във_and_so_does_a_city(texts: Texts):
    tuesday = datetime(2026, 12, 8, 19, 0, tzinfo=SOFIA)
    assert texts.at(tuesday, "bg") == (
        "във вторник, 8 декември 2026 г., в 19:00 ч. по българско време"
    )
    assert texts.at(tuesday + timedelta(days=1), "bg").startswith("в сряда, 9 декември 2026 г.")
    assert texts.at(tuesday, "bg", ZoneInfo("Europe/Vienna")).endswith("(18:00 ч. във Виена)")
    assert texts.at(tuesday, "en", LONDON) == (
        "on Tuesday, 8 December 2026 at 19:00 Sofia time (17:00 your time in London)"
    )


def test_a_clients_own_time_shows_only_when_it_differs(texts: Texts):
    summer = datetime(2027, 7, 5, 10, 0, tzinfo=SOFIA)
    assert texts.record(summer, "bg", SOFIA) == texts.record(summer, "bg")
    assert texts.record(summer, "bg", ZoneInfo("Europe/Istanbul")) == texts.record(summer, "bg")
    assert texts.record(summer, "bg", LONDON).endswith("(08:00 ч. в Лондон)")


def test_another_practice_zone_is_named_by_its_city(texts: Texts):
    berlin = datetime(2026, 12, 8, 19, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert texts.record(berlin, "en") == "Tuesday, 8 December 2026, 19:00 Berlin time"
    assert texts.record(berlin, "bg").endswith("19:00 ч. по времето в Берлин")


@pytest.fixture
def hour_long(db_url) -> EngineClient:
    """A practice with 60-minute sessions."""
    store = Store(open_database(db_url), Schedule(session_minutes=60), CIPHER, clock=lambda: MONDAY)
    store.add_org(code="ACME", name="Acme Ltd")
    return EngineClient(IntakeEngine(store, Texts()), user_id=2002)


def test_the_confirmation_says_a_held_request_its_length_and_how_it_will_reach_the_client(
    hour_long,
):
    hour_long.answer_until_summary("bg", phone="+44 20 7946 0958", way="way:phone")
    assert f"{HOLD_MINUTES} минути" in hour_long.text  # the hold, at the summary
    assert "(06:00 ч. в Лондон)" in hour_long.text  # 08:00 in Sofia, in November
    hour_long.press("book:confirm")
    confirmation = hour_long.text
    assert "чака потвърждение от консултант" in confirmation
    assert "Продължителност: 60 минути" in confirmation
    assert "ще Ви се обади на +442079460958" in confirmation
    assert "/mybooking" in confirmation
    assert mistakes(confirmation) == []


def test_the_time_question_names_the_zone_and_the_clients_own_time(client):
    client.answer_until_summary("en", phone="+44 20 7946 0958")
    client.press("edit:time")
    client.press(client.first_free("day:"))
    sofia, london = re.search(
        r"All times are Sofia time; (\d\d):00 is (\d\d):00 your time in London\.", client.text
    ).groups()
    assert int(sofia) - int(london) == 2  # November: UTC+2 and UTC


def test_a_bulgarian_number_sees_only_the_practice_zone(client):
    client.answer_until_summary("bg")
    assert "08:00 ч. по българско време\n" in client.text
    assert "ч. в " not in client.text


def test_deletedata_mentions_a_cancelled_consultation_only_when_there_was_one(client):
    client.begin("bg", "acme", "Мария Иванова")
    client.command("deletedata")
    assert "отменим" not in client.text
    client.press("erase:yes")
    assert "Изтрихме всичките Ви данни." in client.text and "отменихме" not in client.text

    client.answer_until_summary("bg")
    client.press("book:confirm")
    client.command("deletedata")
    assert "ще отменим и консултацията Ви във вторник, 24 ноември 2026 г." in client.text
    client.press("erase:yes")
    assert "отменихме предстоящата Ви консултация" in client.text


def test_the_reminder_has_no_year_and_no_zone_id(engine, client, store):
    client.answer_until_summary("bg")
    client.press("book:confirm")
    [booking] = store.bookings_of(client.user_id)
    text = engine.reminder(booking).text
    assert "във вторник, 24 ноември, в 08:00 ч. по българско време." in text
    assert "Europe/Sofia" not in text and "2026" not in text


def test_the_day_buttons_stay_short(texts: Texts):
    assert texts.day(date(2026, 12, 8), "bg") == "вт, 8 дек"
    assert texts.day(date(2026, 12, 8), "en") == "Tue, 8 Dec"


@pytest.mark.parametrize("typed", ["Пропускам", "пропусни"])
def test_skip_can_be_typed_as_the_button_says_or_as_it_said_before(client, typed):
    client.answer_until_summary("bg")
    client.press("edit:notes")
    client.say(typed)
    assert client.state()["step"] == "summary"
    assert "Друго: (пропуснато)" in client.text


def test_bulgarian_buttons_speak_in_the_first_person(texts: Texts):
    """One register: the client's own words on buttons, never the informal imperative."""
    informal = re.compile(
        r"(?<!\w)(Прочети|Пропусни|Отмени|Сподели|Изтрий|Запиши|Прекрати|Запази)\b"
    )
    labels = [
        texts("bg", msgid)
        for msgid in catalog("bg")
        if msgid.startswith(("button.", "consent.", "cancel.", "erase.", "mybooking.", "waitlist."))
        or msgid.endswith((".yes", ".no", ".keep", ".join"))
    ]
    assert [label for label in labels if informal.search(label)] == []
    assert "Пропускам" in labels and "Прочитам цялото известие" in labels
