"""Risk is seen wherever a client writes it: a photo's caption, an edited message, and a voice
message still gets where to find help. End to end through the fake Bot API."""

from tests.harness import STAFF_CHAT, running_bot
from tests.walk import settled, walk_intake


def alerts(tg) -> list:
    return [m for m in tg.messages_for(STAFF_CHAT) if "URGENT" in m.text or "СПЕШНО" in m.text]


async def test_a_risky_photo_caption_gets_the_guidance_and_alerts_the_staff(tg, db_url):
    async with running_bot(tg, db_url):
        eva = tg.user(9301, first_name="Eva", language_code="en")
        replies = await eva.send_photo(caption="this is the rope I bought yesterday")
        assert "112" in replies[0].text
        assert "can only read text" not in replies[0].text
        assert len(alerts(tg)) == 1


async def test_an_edit_turned_risky_alerts_and_an_ordinary_edit_changes_nothing(tg, db_url):
    async with running_bot(tg, db_url, flood_limit_per_minute=30) as store:
        eva = tg.user(9302, first_name="Eva", language_code="en")
        await walk_intake(tg, store, eva, until="reason")
        before, sent = store.load_conversation(9302), len(eva.messages)

        def push_edit(text: str) -> None:
            message = tg._text_message(eva.chat_id, eva.id, text)
            tg.push_update({"edited_message": {**message, "edit_date": message["date"] + 5}})

        for _ in range(40):  # an ordinary correction, or a live location's stream of edits
            push_edit("Acme")
        await settled(tg, store)
        assert len(eva.messages) == sent and store.load_conversation(9302) == before
        assert not alerts(tg)  # and no "slow down" either: edits are not counted

        push_edit("I have saved up enough pills and tonight is the night")
        await settled(tg, store)
        assert any("112" in m.text for m in eva.messages[sent:])
        assert len(alerts(tg)) == 1
        assert store.load_conversation(9302)["answers"] == before["answers"]  # kept as it was
        assert "edited_message" in tg.calls_to("getUpdates")[-1]["allowed_updates"]


async def test_a_voice_message_is_asked_to_be_typed_and_told_where_help_is(tg, db_url):
    async with running_bot(tg, db_url):
        eva = tg.user(9303, language_code="bg")
        voice = {"file_id": "v1", "file_unique_id": "uv1", "duration": 4}
        replies = await eva.send_fields({"voice": voice})
        assert "гласови съобщения" in replies[0].text and "112" in replies[0].text


async def test_danger_from_someone_else_gets_safety_words_and_no_call_is_promised(tg, db_url):
    async with running_bot(tg, db_url, abuse_contacts="Helpline for victims: 0800 00 001"):
        eva = tg.user(9304, first_name="Eva", language_code="en")
        replies = await eva.send("he said next time he will finish me")
        texts = " ".join(r.text for r in replies)
        assert "not your fault" in texts and "0800 00 001" in texts
        assert "do not have your phone number" in texts  # nobody can call: it says so
        assert "will call you" not in texts
