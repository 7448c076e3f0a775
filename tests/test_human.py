"""A client asks for a person: /human and the button under /help call them back."""

from datetime import timedelta

from dialogs.engine import IntakeEngine
from dialogs.messages import IntakeConfig
from tests.conftest import MONDAY
from tests.driver import EngineClient
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import settled, walk_intake

REASON = "I have been anxious and sleeping badly for months."


def test_human_mid_intake_posts_name_and_phone_but_no_free_text(client):
    client.answer_until_summary(reason=REASON, notes="My boss shouts at me every day.")
    client.command("human")
    [note] = client.staff
    assert "Maria Ivanova" in note and "+359888123456" in note
    assert REASON not in note and "boss" not in note and "Sofia" not in note
    assert "+359888123456" in client.text and "08:00-20:00" in client.text
    assert client.state()["step"] == "summary"  # the intake goes on where it was
    assert client.buttons()[-1] == "book:confirm"


def talk(store, texts, user_id: int, lang: str = "en") -> EngineClient:
    """A client of a practice that gives hello@practice.bg as its contact."""
    engine = IntakeEngine(store, texts, IntakeConfig(practice_contact="hello@practice.bg"))
    return EngineClient(engine, user_id=user_id, language_code=lang)


def test_a_second_request_soon_after_does_not_post_again(store, texts):
    clock = [MONDAY]
    store.clock = lambda: clock[0]
    client = talk(store, texts, 1001)
    client.answer_until_summary()
    client.command("human")
    client.command("human")
    assert len(client.staff) == 1
    assert "already asked" in client.text
    clock[0] += timedelta(hours=1)
    client.command("human")
    assert len(client.staff) == 2


def test_without_a_phone_the_client_is_asked_for_one_and_told_where_to_write(store, texts):
    client = talk(store, texts, 1002)
    client.begin("en", "acme", "Petar Georgiev")
    client.command("human")
    assert client.staff == []
    assert "number" in client.text and "hello@practice.bg" in client.text
    assert client.reply.contact_button  # or they share their own
    client.say("0888 765 432")
    [note] = client.staff
    assert "Petar Georgiev" in note and "+359888765432" in note
    assert "+359888765432" in client.text
    state = client.state()
    assert "phone" not in state["answers"]  # not kept in the intake
    assert state["step"] == "gender" and client.buttons()[0].startswith("gender:")


def test_a_number_that_does_not_parse_posts_nothing_and_says_how_to_reach_us(store, texts):
    client = talk(store, texts, 1003)
    client.begin("en", "acme")
    client.command("human")
    client.say("call me maybe")
    assert client.staff == []
    assert "hello@practice.bg" in client.text and "/human" in client.text
    assert client.state()["pending"] is None
    client.command("human")
    client.share_contact("359888765432", owner=4242)  # someone else's
    assert client.staff == [] and "own" in client.text
    client.share_contact("359888765432")
    assert "+359888765432" in client.staff[0]


def test_before_consent_nothing_personal_is_asked_and_the_practice_is_named(store, texts):
    client = talk(store, texts, 1004)
    client.command("human")
    assert client.staff == [] and client.state() is None
    assert "hello@practice.bg" in client.text and "/start" in client.text
    client.command("start")
    client.press("lang:en")  # the privacy note is shown, not yet agreed to
    client.command("human")
    assert client.staff == [] and client.state()["pending"] is None
    assert "hello@practice.bg" in client.text and not client.reply.contact_button


def test_help_shows_contact_hours_and_a_talk_to_a_person_button(store, texts):
    client = talk(store, texts, 1005)
    client.answer_until_summary("bg")
    client.command("help")
    help_text = client.last.replies[0]
    assert "hello@practice.bg" in help_text.text and "08:00-20:00" in help_text.text
    assert "/human" in help_text.text
    assert [b.data for row in help_text.buttons for b in row] == ["human:ask"]
    client.press("human:ask")
    [note] = client.staff
    assert "Maria Ivanova" in note and "+359888123456" in note
    assert "Помолих екипа" in client.text


async def test_human_over_telegram_reaches_the_group_without_free_text(tg, db_url):
    async with running_bot(tg, db_url) as store:
        maria = tg.user(8101, first_name="Maria", language_code="en")
        await walk_intake(tg, store, maria, until="way")
        help_message, _question = await maria.send("/help")
        assert help_message.buttons() == ["🙋 Talk to a person"]
        before = len(tg.messages_for(STAFF_CHAT))
        await maria.click("human:ask")
        notes = tg.messages_for(STAFF_CHAT)[before:]
        assert len(notes) == 1
        assert "Maria Ivanova" in notes[0].text and "+359888123456" in notes[0].text
        assert REASON not in notes[0].text and "Sofia" not in notes[0].text
        assert any("+359888123456" in m.text for m in maria.messages[-3:])
        await maria.send("/human")
        assert len(tg.messages_for(STAFF_CHAT)) == before + 1  # not posted twice
        for lang in ("bg", "en"):
            assert "human" in [c["command"] for c in tg.commands(language_code=lang)]
        await maria.send("/deletedata")
        await maria.click("erase:yes")
        await settled(tg, store)
        assert notes[0].edits and "Maria Ivanova" not in notes[0].text  # erasure reaches it
        assert "+359888123456" not in notes[0].text
