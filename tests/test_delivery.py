"""Telegram delivers each update at least once: a redelivered update has effect once."""

from tests.harness import running_bot


async def test_an_update_delivered_again_after_a_restart_has_no_second_effect(tg, db_url):
    async with running_bot(tg, db_url) as store:
        ana = tg.user(9301, language_code="en")
        await ana.send("/start")
        await ana.click("lang:en")
        await ana.click("consent:yes")
        org_update = ana.push_text("acme")
        await tg.wait_processed(org_update)
        assert store.load_conversation(9301)["step"] == "name"
    seen = len(ana.messages)
    tg.redeliver(org_update)  # the confirmation was lost: Telegram sends "acme" once more
    async with running_bot(tg, db_url) as store:
        # The restarted bot fetches the old update first, then this one.
        await ana.send("Ana Petrova")
        after = [m.text for m in ana.messages[seen:]]
        assert not any("last name" in text for text in after), after  # "acme" was no name
        assert "gender" in after[-1]
        state = store.load_conversation(9301)
        assert state["answers"] == {"org": "ACME", "name": "Ana Petrova"}
        assert state["misses"] == {}
