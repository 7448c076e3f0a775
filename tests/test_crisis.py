"""Crisis screening: phrases that must match, everyday phrases that must not, and the flow."""

from pathlib import Path

import pytest

import locales
from dialogs.crisis import CrisisScreen, fold
from tests.driver import EngineClient

SCREEN = CrisisScreen.load(Path(locales.__file__).parent / "crisis")

MUST_MATCH = {
    "suicide": [
        "Мисля за самоубийство",
        "Понякога искам да умра",
        "Ще се самоубия",
        "САМОУБИЯ",
        "самоуби́йство",  # a stress mark
        "Иска ми се просто да умра",
        "mislq za samoubiistvo",  # Bulgarian in Latin letters
        "6te se samoubiq",
        "iskam da umra",
        "I want to kill myself",
        "i wanna die",
        "Sometimes I think about suicide",
        "I want to end my life",
        "I REALLY want to die",
        "I want to kil myself",  # misspellings
        "thinking about sucide",
        "suicidal thoughts every night",
        "i want\nto die",  # a line break on a phone is not the end of a sentence
        "I want to d\u200bie",  # an invisible character inside a word
    ],
    "hopelessness": [
        "Не искам да живея повече",
        "Няма смисъл да живея",
        "ne iskam da jiveq",
        "ne iskam da zhiveya",
        "I'd be better off dead",
        "I dont want to live anymore",
        "what is the point of any of it",
        "I'm only a weight on my family",
    ],
    "self_harm": [
        "the cuts on my arm again",
        "Нарязах се снощи",
        "режа се от месеци",
        "narqzah se snoshti",
        "I've been cutting myself",
        "I hurt myself on purpose",
        "self-harm",
    ],
    "harm_others": [
        "Искам да убия някого",
        "iskam da ubiq nqkogo",
        "I'm going to hurt someone",
        "I want to kill him",
    ],
    "abuse": [
        "he said next time he will finish me",
        "Мъжът ми ме бие",
        "muzhat mi me bie",
        "Изнасилиха ме",
        "my husband beats me",
        "he hits me when he drinks",
        "I was raped",
        "there is domestic violence at home",
    ],
}

MUST_NOT_MATCH = [
    "a killer workout",
    "dead tired",
    "dying to see you",
    "a cut above the rest",
    "the traffic nearly killed me",
    "This commute is killing me",
    "I could kill for a coffee right now",
    "I'm dying to get started",
    "My phone died yesterday",
    "I nearly died laughing",
    "I cut my hair short",
    "My back hurts when I sit",
    "It beats me why this happens",
    "I want to live a calmer life",
    "We killed time at the airport",
    "I'm dead tired after work",
    "Self-help books did not help",
    "I hit a wall at work",
    "Умирам от смях",
    "Шефът ще ме убие, ако закъснея",
    "Режа хляба на филии",
    "Искам да живея по-спокойно",
    "Телефонът ми умря",
    "Децата ме бият на шах",
    "Убиват ме тези задръствания",
    "umiram ot smqh",
    "shefat 6te me ubie ako zakasneq",
    "Искам да се науча да казвам не",
    "Тревожа се за работата и не спя добре",
]


@pytest.mark.parametrize(
    ("category", "text"), [(c, t) for c, texts in MUST_MATCH.items() for t in texts]
)
def test_phrases_of_acute_risk_are_recognized(category, text):
    assert SCREEN.check(text) == category


@pytest.mark.parametrize("text", MUST_NOT_MATCH)
def test_everyday_phrases_with_the_same_words_are_not(text):
    assert SCREEN.check(text) is None


def test_folding_treats_cyrillic_and_its_latin_spellings_alike():
    assert fold("Ще се самоубия") == fold("6te se samoubiq") == fold("shte se samoubia")
    assert fold("Живея") == fold("jiveq") == fold("zhiveya")


def test_the_practice_can_add_phrases(tmp_path):
    (tmp_path / "extra.txt").write_text(
        "[letters bulgarian]\n[abuse]\nзаключва ме вкъщи\n", encoding="utf-8"
    )
    screen = CrisisScreen.load(tmp_path)
    assert screen.check("Мъжът ми заключва ме вкъщи всяка вечер") == "abuse"
    (tmp_path / "broken.txt").write_text("no category yet\n", encoding="utf-8")
    with pytest.raises(ValueError):
        CrisisScreen.load(tmp_path)


def test_risk_gets_guidance_first_then_asks_to_go_on_and_alerts_staff_once(client, store):
    client.begin("en")
    client.say("acme")
    client.say("Maria Ivanova")
    client.press("gender:woman")
    client.say("I just want to die")
    assert "112" in client.last.replies[0].text
    assert client.buttons() == ["safe:yes:1", "safe:no:1"]  # are you safe, about alert 1
    client.press("safe:yes")
    assert client.buttons() == ["callme:yes", "callme:no"]  # no number yet: a call back?
    client.press("callme:no")
    assert client.buttons() == ["crisis:yes", "crisis:no"]
    [alert] = client.staff
    assert "СПЕШНО" in alert and "A-1" in alert and "Maria Ivanova" in alert
    assert "want to die" not in alert  # never the client's own words in the group
    assert "самоубийство" not in alert  # nor the kind of risk: the whole group reads it
    client.say("no really, I want to die")
    assert len(client.staff) == 1  # one alert per intake
    client.press("crisis:yes")
    assert "How old are you?" in client.reply.text  # the question they were at
    client.say("34")
    client.say("0888 123 456")
    client.say("m@example.com")
    client.say("Sofia")
    client.say("Everything feels hopeless and I want to end my life.")
    assert client.state()["answers"]["reason"].startswith("Everything")  # the answer is kept
    client.press("safe:yes")
    client.press("crisis:yes")
    assert "How would you prefer" in client.reply.text


def test_a_booking_after_a_risk_is_marked_urgent_for_the_staff(client):
    client.answer_until_summary("en", reason="I keep thinking about suicide lately.")
    client.press("safe:yes")
    client.press("crisis:yes")
    client.press("book:confirm")
    assert client.staff[-1].startswith("⚠️ СПЕШНО")
    assert "thinking about" not in client.staff[-1]  # the flag, not the client's words


def test_a_first_message_showing_risk_is_answered_and_alerted_without_an_intake(client):
    client.say("Не искам да живея повече")
    assert "112" in client.last.replies[0].text
    assert "СПЕШНО" in client.staff[0] and "още не е дадено" in client.staff[0]
    client.press("safe:yes")
    client.press("crisis:yes")
    assert "На какъв език" in client.reply.text


def test_not_now_keeps_the_answers_and_says_how_to_come_back(client):
    client.begin("en")
    client.say("acme")
    client.say("my husband beats me")
    client.press("safe:yes")
    client.press("crisis:no")
    assert "/start" in client.text and "112" in client.text
    assert client.state()["answers"] == {"org": "ACME"}


def test_crisis_contacts_from_configuration_are_shown(store, texts):
    from dialogs.engine import IntakeEngine
    from dialogs.messages import IntakeConfig

    engine = IntakeEngine(store, texts, IntakeConfig(crisis_contacts=("Crisis line: 0800 00 000",)))
    client = EngineClient(engine, 5)
    client.say("I want to kill myself")
    assert "• Crisis line: 0800 00 000" in client.last.replies[0].text


def test_with_a_phone_number_the_client_is_told_the_team_will_call_and_when(store, texts):
    from dialogs.engine import IntakeEngine
    from dialogs.messages import IntakeConfig

    config = IntakeConfig(opening_hours="mon-fri 09:00-17:00")
    client = EngineClient(IntakeEngine(store, texts, config), 6)
    client.answer_until_summary("en", reason="Work has been hard lately.")
    client.say("I have been saving my sleeping pills for weeks")
    replies = [r.text for r in client.last.replies]
    assert "will call you on +359888123456" in replies[1]
    assert "(mon-fri 09:00-17:00 Sofia time)" in replies[1]
    assert replies[2] == "Are you safe right now?"


def test_not_safe_raises_the_alert_at_once_and_says_call_112_now(client):
    client.begin("en")
    client.say("acme")
    client.say("I bought a rope and I know where")
    assert len(client.staff) == 1
    client.press("safe:no")
    assert "call 112 now" in client.last.replies[0].text
    assert client.buttons() == ["callme:yes", "callme:no"]  # no number yet
    [_alert, louder] = client.staff
    assert "NOT safe" in louder or "НЕ е в безопасност" in louder
    client.press("safe:no")  # pressed again: the team was told already
    assert len(client.staff) == 2


def test_without_a_number_the_client_is_asked_whether_to_be_called_back(client):
    client.say("I bought a rope and I know where")  # the very first message: no number yet
    assert "никой не може да Ви се обади" in client.last.replies[1].text
    client.press("safe:yes")
    assert client.buttons() == ["callme:yes", "callme:no"]
    client.press("callme:yes")
    client.say("12")  # not a number: asked again, nothing sent
    assert len(client.staff) == 1 and "телефонен номер" in client.text
    client.say("0888 123 456")
    assert "+359888123456" in client.last.replies[0].text
    [_alert, call_back] = client.staff
    assert "+359888123456" in call_back
    assert "phone" not in client.state()["answers"]  # kept only in the message to the staff
    assert client.buttons() == ["crisis:yes", "crisis:no"]


def test_a_button_instead_of_the_number_stops_waiting_for_it(client):
    client.say("I bought a rope and I know where")
    client.press("safe:yes")
    client.press("callme:yes")
    client.press("crisis:yes")  # went on with the intake instead
    client.say("Acme")  # an answer, not a number to call
    assert len(client.staff) == 1


def test_typing_on_instead_of_a_number_is_not_waited_for_twice(client):
    client.say("I bought a rope and I know where")
    client.press("safe:yes")
    client.press("callme:yes")
    client.say("no thanks")
    assert client.buttons() == ["callme:no"]  # asked once more, with a way out
    client.say("really no")
    assert client.buttons() == ["crisis:yes", "crisis:no"]  # not waiting any more
    assert client.state()["pending"] is None


def test_a_risk_after_the_alert_was_taken_is_a_new_alert(client, engine, store):
    client.say("I bought a rope and I know where")
    engine.take_alert(alert_id=1, staff_user_id=1, staff_name="Maria")  # not staff: refused
    assert store.latest_alert(client.user_id).acknowledged_by is None
    store.acknowledge_alert(1, "Maria")  # someone is calling
    client.say("I have saved up enough pills and tonight is the night")
    assert len(client.staff) == 2 and client.buttons() == ["safe:yes:2", "safe:no:2"]
    client.press("safe:no:2")
    assert "НЕ е в безопасност" in client.staff[-1]  # about the new alert: news again
