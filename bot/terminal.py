"""The same conversation in a terminal: buttons become numbered options."""

from typing import TextIO

from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts, pick_language
from dialogs.messages import Button, Input, Outcome
from storage import Store

TERMINAL_USER = -1  # Telegram user ids are positive and 0 marks erased data: no clash
DEMO_CODE = "DEMO"


def run_chat(
    *,
    engine: IntakeEngine,
    store: Store,
    texts: Texts,
    lang: str | None,
    stdin: TextIO,
    stdout: TextIO,
) -> None:
    """Talk to one client on stdin/stdout until end of input."""
    lang = pick_language(lang)
    if not store.list_orgs():
        store.add_org(code=DEMO_CODE, name="Demo organization")
        print(texts(lang, "terminal.demo", code=DEMO_CODE), file=stdout)
    print(texts(lang, "terminal.hint"), file=stdout)
    buttons = _show(_turn(engine, Input("command", "start"), lang), texts, lang, stdout)
    for line in stdin:
        outcome = _turn(engine, _read(line.strip(), buttons), lang)
        buttons = _show(outcome, texts, lang, stdout)
    print(file=stdout)


def _turn(engine: IntakeEngine, inp: Input, lang: str) -> Outcome:
    """One input in one transaction, as in Telegram; the staff's part is printed, not sent."""
    with engine.store.unit_of_work():
        return engine.handle(
            user_id=TERMINAL_USER, chat_id=TERMINAL_USER, inp=inp, language_hint=lang
        )


def _read(line: str, buttons: list[Button]) -> Input:
    if line.startswith("/"):
        return Input("command", line[1:].split()[0].lower() if line[1:] else "")
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return Input("choice", buttons[int(line) - 1].data)
    return Input("text", line)


def _show(outcome: Outcome, texts: Texts, lang: str, stdout: TextIO) -> list[Button]:
    """Print the replies; return the buttons of the last reply that had any."""
    shown: list[Button] = []
    for reply in outcome.replies:
        print("\n" + reply.text, file=stdout)
        flat = [button for row in reply.buttons for button in row]
        for number, button in enumerate(flat, 1):
            print(f"  {number}) {button.label}", file=stdout)
        shown = flat or shown
        if reply.document:
            name, content = reply.document
            print(f"[📎 {name}, {len(content)} bytes]", file=stdout)
    for text in [note.text for note in outcome.staff] + [e.text for e in outcome.staff_edits]:
        print("\n" + texts(lang, "terminal.staff") + "\n" + text, file=stdout)
    if outcome.replies:
        print("> ", end="", file=stdout, flush=True)
    return shown
