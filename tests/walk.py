"""Walk a fake Telegram user through the intake by answering whatever the bot asks.

The step comes from the stored state, so adding a question breaks no walkthrough: give it an
answer in ANSWERS (or it is answered with its first button).
"""

import asyncio
import time
from datetime import timedelta

from storage import Store
from tests.fake_telegram import FakeTelegram, FakeUser

# What to answer at each step: text to type, or "namespace:id" of a button to press.
ANSWERS = {
    "language": "lang:en",
    "consent": "consent:yes",
    "org": "acme",
    "name": "Maria Ivanova",
    "gender": "gender:woman",
    "age": "34",
    "phone": "0888 123 456",
    "email": "maria@example.com",
    "city": "Sofia",
    "reason": "I have been anxious and sleeping badly for months.",
    "way": "way:video",
    "consult_lang": "consult_lang:bg",
    "experience": "experience:no",
    "notes": "skip:notes",
    "summary": "book:confirm",
}
BUTTON_SPACES = ("lang", "consent", "gender", "way", "consult_lang", "experience", "skip", "book")


async def settled(
    tg: FakeTelegram, store: Store, timeout: float = 30, chat: int | None = None
) -> None:
    """Wait until every pushed update is handled and the outbox holds nothing to send (to
    `chat`, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        await tg.wait_idle(max(0.1, deadline - time.monotonic()))
        waiting = store.outbox_backlog() if chat is None else store.outbox_backlog(chat)
        if waiting == 0 and tg._inflight == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox still holds {store.outbox_backlog(chat)} messages")
        await asyncio.sleep(0.02)


def step_of(store: Store, user: FakeUser) -> str | None:
    state = store.load_conversation(user.chat_id)
    return state["step"] if state else None


def answer_for(step: str, user: FakeUser) -> str:
    """The answer to `step`: from ANSWERS, or the first button the bot offers for it."""
    if step in ANSWERS:
        return ANSWERS[step]
    offered = [data for message in user.messages for data in message.button_data()]
    return next(
        data for data in reversed(offered) if data.startswith(f"{step}:") and data != f"{step}:back"
    )


async def give(user: FakeUser, answer: str) -> None:
    """Type or press `answer`, without waiting for the bot."""
    if answer.split(":")[0] in (*BUTTON_SPACES, "day", "time"):
        sent, button = user.tg._find_button(user.chat_id, answer)
        user.tg.push_update(user.tg._callback_query(user.chat_id, sent, button["callback_data"]))
    else:
        user.push_text(answer)


async def walk_intake(
    tg: FakeTelegram, store: Store, user: FakeUser, *, until: str = "done", own: bool = False
) -> None:
    """From /start to `until` (a step), waiting after each input for everything it caused
    (with `own`, only for what goes to this client: the staff group may be held up)."""
    chat = user.chat_id if own else None
    user.push_text("/start")
    await settled(tg, store, chat=chat)
    for _ in range(40):
        step = step_of(store, user)
        if step == until:
            return
        await give(user, answer_for(step, user))
        await settled(tg, store, chat=chat)
    raise AssertionError(f"the intake did not reach {until!r}; it stays at {step!r}")


def fully_booked(store: Store) -> None:
    """Bulgarian over video is offered, by a consultant away for longer than the horizon."""
    vera = store.add_consultant(
        name="Vera", telegram_user_id=903, languages="bg", ways="video", hours="mon-fri 08:00-20:00"
    )
    now = store.clock()
    store.add_time_off(vera.id, now - timedelta(days=1), now + timedelta(days=400), "sabbatical")
