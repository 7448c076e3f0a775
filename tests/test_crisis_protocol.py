"""After a risk is seen: "are you safe right now?", the alert someone owns ("I'm calling", the
first tap wins), the alert raised again when nobody took it or the client went silent, and the
alert's place ahead of a queue of booking notices. End to end through the fake Bot API."""

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from bot.effects import NOTICE, URGENT, Call
from dialogs.questions import CRISIS_LABELS
from tests.harness import STAFF_CHAT, running_bot
from tests.walk import settled

STAFF = (7101, 7102)
RISKY = "I have been saving my pills and tonight is the night"


def alerts(tg) -> list:
    return [m for m in tg.messages_for(STAFF_CHAT) if "URGENT" in m.text or "СПЕШНО" in m.text]


async def test_not_safe_posts_a_louder_alert_and_tells_the_client_to_call_112(tg, db_url):
    async with running_bot(tg, db_url):
        eva = tg.user(9401, first_name="Eva", language_code="en")
        replies = await eva.send(RISKY)
        assert replies[-1].text == "Are you safe right now?"
        replies = await eva.click("safe:no:1")
        assert "call 112 now" in replies[0].text
        assert "call you back?" in replies[-1].text  # no number yet: nobody can call
        [first, louder] = alerts(tg)
        assert "ОЩЕ ПО-СПЕШНО" in louder.text and "НЕ е в безопасност" in louder.text
        assert louder.message_id != first.message_id  # a new message: it notifies
        await eva.click("callme:yes")
        replies = await eva.share_contact("+359888123456")
        assert "will call you on +359888123456" in replies[0].text
        assert "go on with booking" in replies[-1].text
        [call_back] = [m for m in tg.messages_for(STAFF_CHAT) if "ОБАДЕТЕ СЕ" in m.text]
        assert "+359888123456" in call_back.text


async def test_two_staff_tap_im_calling_at_once_and_exactly_one_takes_it(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=STAFF) as store:
        for staff_id, name in zip(STAFF, ("Maria", "Ivan"), strict=True):
            tg.user(staff_id, first_name=name)
        eva = tg.user(9402, first_name="Eva", language_code="en")
        await eva.send(RISKY)
        [alert] = alerts(tg)
        _, button = tg._find_button(STAFF_CHAT, "alert:take:1")
        for staff_id in STAFF:  # both at the same moment
            tg.push_update(tg._callback_query(staff_id, alert, button["callback_data"]))
        await settled(tg, store)
        answers = tg.callback_answers[-2:]
        assert sum("Останалите виждат" in a for a in answers) == 1
        assert sum("вече се свързва" in a for a in answers) == 1
        [alert] = alerts(tg)
        assert alert.text.count("се свързва с клиента") == 1 and not alert.buttons()
        taker = store.latest_alert(9402).acknowledged_by
        assert taker in ("Maria", "Ivan") and f"{taker} се свързва" in alert.text


async def test_an_alert_nobody_took_and_a_silent_client_are_raised_again(tg, db_url):
    private = {"alert_private_user_ids": (STAFF[0],)}  # opted in to a private copy
    async with running_bot(tg, db_url, staff_user_ids=STAFF, **private) as store:
        eva = tg.user(9403, first_name="Eva", language_code="en")
        await eva.send(RISKY)
        await tg.front.raise_alerts_again()  # nothing is due yet
        await settled(tg, store)
        assert len(alerts(tg)) == 1
        later = datetime.now(UTC) + timedelta(minutes=11)
        store.clock = lambda: later
        await tg.front.raise_alerts_again()
        await settled(tg, store)
        texts = [m.text for m in tg.messages_for(STAFF_CHAT)]
        assert sum("не е отговорил дали" in t for t in texts) == 1  # silent on "are you safe?"
        [again] = [m for m in tg.messages_for(STAFF_CHAT) if "НЕ Е ПОЕТ" in m.text]
        assert again.buttons()  # it can be taken from here too
        await tg.front.raise_alerts_again()  # once a round, however often the job runs
        await settled(tg, store)
        assert len(tg.messages_for(STAFF_CHAT)) == len(texts)
        [copy] = tg.messages_for(STAFF[0])  # the one who opted in, privately
        assert "НЕ Е ПОЕТ" in copy.text and copy.buttons()
        assert not tg.messages_for(STAFF[1])
        even_later = later + timedelta(minutes=11)  # still nobody: posted again, and again
        store.clock = lambda: even_later
        await tg.front.raise_alerts_again()
        await settled(tg, store)
        assert sum("НЕ Е ПОЕТ" in m.text for m in tg.messages_for(STAFF_CHAT)) == 2
        await tg.user(STAFF[0]).click("alert:take:1")  # taken from the private chat
        assert "се свързва с клиента" in tg.messages_for(STAFF[0])[-1].text
        assert store.latest_alert(9403).acknowledged_by


async def test_the_alert_goes_ahead_of_30_queued_notices_in_a_group_at_its_limit(tg, db_url):
    async with running_bot(tg, db_url) as store:
        notices = [
            dataclasses.asdict(
                Call(STAFF_CHAT, "send", {"text": f"notice {n}", "reply_markup": None}, NOTICE)
            )
            for n in range(30)
        ]
        with store.unit_of_work():
            handoff = store.enqueue_all(notices)
        tg.front.sender.deliver(*handoff)
        eva = tg.user(9404, first_name="Eva", language_code="en")
        eva.push_text(RISKY)  # not waiting for quiet: the group's queue takes minutes
        for _ in range(600):
            if alerts(tg):
                break
            await asyncio.sleep(0.05)
        sent = [m.text for m in tg.messages_for(STAFF_CHAT)]
        assert alerts(tg), (sent, [m.text[:40] for m in eva.messages])
        ahead = sum(t.startswith("notice") for t in sent[: sent.index(alerts(tg)[0].text)])
        assert ahead < 30, f"{ahead} notices went before the alert"
        assert len([t for t in sent if t.startswith("notice")]) < 30  # the rest still wait


def test_a_chats_next_message_is_its_most_urgent_one_then_the_oldest(store):
    """Whoever claims the staff group's queue next (after a 429, a restart, another
    instance) takes the alert before the notices written earlier."""
    rows = [
        dataclasses.asdict(Call(STAFF_CHAT, "send", {"text": f"notice {n}"}, NOTICE))
        for n in range(3)
    ]
    alert = dataclasses.asdict(Call(STAFF_CHAT, "send", {"text": "alert"}, URGENT))
    for batch in (rows, [alert]):
        with store.unit_of_work():
            handed, _waiting = store.enqueue_all(batch)
        store.release([m.id for m in handed])  # not sent: left in the outbox
    [first] = store.claim_outbox(chat=STAFF_CHAT, limit=1)
    assert first.payload["text"] == "alert"
    store.release([first.id])
    assert [m.payload["text"] for m in store.claim_outbox()] == ["alert"]  # one per chat


async def test_erasure_reaches_the_alert_posts_and_mydata_lists_the_alerts(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=STAFF) as store:
        eva = tg.user(9406, first_name="Eva", language_code="en")
        await eva.send(RISKY)
        await eva.click("safe:no:1")  # a second, louder post
        await eva.send("/mydata")
        assert any("signs of danger" in m.text for m in eva.messages)
        assert len(tg.messages_for(STAFF_CHAT)) == 2 and "Eva" in alerts(tg)[0].text
        await eva.send("/deletedata")
        await eva.click("erase:yes")
        await settled(tg, store)
        texts = [m.text for m in tg.messages_for(STAFF_CHAT)]
        assert all("Eva" not in t and "сигнал е премахнат" in t for t in texts), texts
        assert store.latest_alert(9406) is None


async def test_only_the_one_who_takes_an_alert_sees_the_kind_of_risk(tg, db_url):
    async with running_bot(tg, db_url, staff_user_ids=STAFF) as store:
        tg.user(STAFF[0], first_name="Maria")
        eva = tg.user(9407, first_name="Eva", language_code="en")
        await eva.send(RISKY)
        await eva.click("safe:no:1")  # the louder post, too
        kind = tg.front.engine.t("bg", CRISIS_LABELS[store.latest_alert(9407).category])
        await tg.group(STAFF_CHAT).click(STAFF[0], "📞 Обаждам се")
        await settled(tg, store)
        assert kind in tg.callback_answers[-1]  # to the one who tapped, as an alert to read
        assert tg.callback_answer_calls[-1].get("show_alert") is True
        labels = [tg.front.engine.t("bg", label) for label in CRISIS_LABELS.values()]
        posts = [m.text for m in tg.messages_for(STAFF_CHAT)]
        assert len(posts) == 2 and all("A-1" in post for post in posts)
        assert not [label for label in labels for post in posts if label in post]
        await eva.send("/mydata")
        assert any("Maria took the alert to call you back" in m.text for m in eva.messages)
