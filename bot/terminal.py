"""The same conversation in a terminal: buttons become numbered options."""

from pathlib import Path
from typing import TextIO

from dialogs.engine import IntakeEngine
from dialogs.i18n import Texts, pick_language
from dialogs.messages import DEMO_CODE, Button, Input, Outcome, State
from storage import Store

TERMINAL_USER = -1  # Telegram user ids are positive and 0 marks erased data: no clash


def run_chat(
    *,
    engine: IntakeEngine,
    store: Store,
    texts: Texts,
    lang: str | None,
    stdin: TextIO,
    stdout: TextIO,
    files: Path = Path(),
) -> None:
    """Talk to one client on stdin/stdout until end of input; attachments are saved in `files`."""
    lang = _language(store) or pick_language(lang)
    if not store.list_orgs():
        store.add_org(code=DEMO_CODE, name="Demo organization")
        print(texts(lang, "terminal.demo", code=DEMO_CODE), file=stdout)
    print(texts(lang, "terminal.hint"), file=stdout)
    show = _Screen(texts, stdout, files)
    buttons = show(_turn(engine, Input("command", "start"), lang), lang)
    for line in stdin:
        outcome = _turn(engine, _read(line.strip(), buttons), lang)
        lang = _language(store) or lang
        buttons = show(outcome, lang)
    print("\n" + texts(lang, "terminal.bye"), file=stdout)


def _language(store: Store) -> str | None:
    """The language the client chose, once they have."""
    saved = store.load_conversation(TERMINAL_USER)
    return State.load(saved).lang if saved else None


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


class _Screen:
    """Prints what Telegram would show; a file the bot would send is saved in `files`."""

    def __init__(self, texts: Texts, stdout: TextIO, files: Path):
        self.texts, self.stdout, self.files = texts, stdout, files

    def __call__(self, outcome: Outcome, lang: str) -> list[Button]:
        """Print the replies; return the buttons of the last reply that had any."""
        shown: list[Button] = []
        for reply in outcome.replies:  # a contact button has no use here: it is left out
            self._print("\n" + reply.text)
            flat = [button for row in reply.buttons for button in row]
            for number, button in enumerate(flat, 1):
                self._print(f"  {number}) {button.label}")
            shown = flat or shown
            if reply.document:
                self._save(*reply.document, lang)
        for text in [note.text for note in outcome.staff] + [e.text for e in outcome.staff_edits]:
            self._print("\n" + self.texts(lang, "terminal.staff") + "\n" + text)
        if outcome.replies:
            print("> ", end="", file=self.stdout, flush=True)
        return shown

    def _save(self, name: str, content: bytes, lang: str) -> None:
        path = (self.files / Path(name).name).resolve()  # only the name: never another folder
        path.write_bytes(content)
        self._print(self.texts(lang, "terminal.saved", path=path))

    def _print(self, text: str) -> None:
        print(text, file=self.stdout)
