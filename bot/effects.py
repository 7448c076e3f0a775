"""What an outcome becomes: the Bot API calls to queue in the outbox, as plain JSON."""

import base64
from dataclasses import dataclass

from dialogs.messages import Button, Outcome, Reply

CAPTION_LIMIT = 1024  # characters in a document's caption

# Who goes first when many chats wait (within one chat, messages keep their order).
NOW = 0  # the person who just wrote: callback answers and replies
URGENT = 1  # crisis alerts to the staff
NOTICE = 2  # booking notices, status edits, news to clients
LATER = 3  # reminders and nudges the bot starts itself


@dataclass(frozen=True)
class Call:
    """One Bot API call for the outbox: `kind` names it (see bot/outbox.py)."""

    chat_id: int
    kind: str
    payload: dict
    priority: int = NOW
    ref: str | None = None
    about: int | None = None  # the client whose data it shows to the staff (erasure finds it)


def inline_markup(buttons: list[list[Button]]) -> dict | None:
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in buttons
        ]
    }


def reply_markup(reply: Reply) -> dict:
    if reply.contact_button:
        # A message has one keyboard: the other buttons (Back) become keys that send their label.
        keys = [[{"text": button.label}] for row in reply.buttons for button in row]
        return {
            "keyboard": [[{"text": reply.contact_button, "request_contact": True}], *keys],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    # No buttons: the keyboard goes, which drops a contact keyboard once the phone is answered.
    return inline_markup(reply.buttons) or {"remove_keyboard": True}


def reply_calls(chat_id: int, reply: Reply, priority: int = NOW) -> list[Call]:
    """A reply as calls: a text, or a document with the text as caption when it fits."""
    calls = []
    if not reply.document or len(reply.text) > CAPTION_LIMIT:
        shown = f"{reply.text} {reply.contact_hint}" if reply.contact_button else reply.text
        text = {"text": shown, "reply_markup": reply_markup(reply)}
        calls.append(Call(chat_id, "send", text, priority))
    if reply.document:
        name, content = reply.document
        document = {"name": name, "content": base64.b64encode(content).decode()}
        if len(calls) == 0:
            document |= {"caption": reply.text, "reply_markup": reply_markup(reply)}
        calls.append(Call(chat_id, "doc", document, priority))
    return calls


def outcome_calls(
    out: Outcome, *, chat_id: int | None, staff_chat_id: int, about: int | None = None
) -> list[Call]:
    """Everything an engine outcome sends: to the chat that wrote, the staff and other clients.
    `about`: the client whose update it was, whom the staff notes show."""
    calls = []
    for reply in out.replies:
        calls += reply_calls(chat_id, reply)
    for note in out.staff:
        payload = {"text": note.text, "reply_markup": inline_markup(note.buttons)}
        if note.reply_to:
            payload["reply_to"] = note.reply_to
        if note.reply_to_booking:
            payload["reply_to_booking"] = note.reply_to_booking
        priority = URGENT if note.urgent else NOTICE
        calls.append(Call(staff_chat_id, "send", payload, priority, note.ref, about))
    for edit in out.staff_edits:
        payload = {"text": edit.text, "reply_markup": inline_markup(edit.buttons)}
        calls.append(Call(staff_chat_id, "edit", payload, NOTICE, edit.ref))
    for chat, message_id, text in out.rewrites:
        payload = {"text": text, "reply_markup": None, "message_id": message_id}
        calls.append(Call(chat, "edit", payload, NOTICE))
    for client_chat, reply in out.to_clients:
        calls += reply_calls(client_chat, reply, NOTICE)
    for staff_chat, reply, client in out.private:
        # One who never opened a chat with the bot refuses it (403): the sender drops it.
        payload = {"text": reply.text, "reply_markup": inline_markup(reply.buttons)}
        calls.append(Call(staff_chat, "send", payload, NOTICE, about=client))
    return calls


def answer_call(chat_id: int, query_id: str, text: str = "", alert: bool = False) -> Call:
    """The answer to a button press; it goes into the chat's queue ahead of the replies."""
    return Call(chat_id, "answer", {"id": query_id, "text": text, "alert": alert})


def unmark_call(chat_id: int, message_id: int) -> Call:
    """Take the keyboard off a pressed message, so old buttons cannot be pressed by mistake."""
    return Call(chat_id, "markup", {"message_id": message_id})
