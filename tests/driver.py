"""Drive the engine as a client would, without Telegram."""

from dialogs.engine import Input, IntakeEngine, Outcome, Reply
from tests.walk import ANSWERS


class EngineClient:
    """One client talking to the engine; keeps what was shown to them."""

    def __init__(self, engine: IntakeEngine, user_id: int, language_code: str = "bg"):
        self.engine = engine
        self.user_id = user_id
        self.language_code = language_code
        self.staff: list[str] = []
        self.staff_edits: list = []
        self.last: Outcome = Outcome()

    def _do(self, inp: Input) -> Outcome:
        self.last = self.engine.handle(
            user_id=self.user_id, chat_id=self.user_id, inp=inp, language_hint=self.language_code
        )
        self.staff += [note.text for note in self.last.staff]
        self.staff_edits += self.last.staff_edits
        return self.last

    def command(self, name: str) -> Outcome:
        return self._do(Input("command", name))

    def say(self, text: str) -> Outcome:
        return self._do(Input("text", text))

    def press(self, data: str) -> Outcome:
        return self._do(Input("choice", data))

    def share_contact(self, phone: str, owner: int | None = None) -> Outcome:
        return self._do(Input("contact", phone, owner if owner is not None else self.user_id))

    def send_photo(self) -> Outcome:
        return self._do(Input("other"))

    @property
    def reply(self) -> Reply:
        """The last reply, which normally carries the current question."""
        return self.last.replies[-1]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last.replies)

    def buttons(self) -> list[str]:
        return [button.data for row in self.reply.buttons for button in row]

    def state(self) -> dict | None:
        return self.engine.store.load_conversation(self.user_id)

    def first_free(self, prefix: str) -> str:
        """The first offered button whose data starts with `prefix`."""
        return next(data for data in self.buttons() if data.startswith(prefix))

    def begin(self, lang: str = "en", *answers: str) -> None:
        """/start, pick `lang`, agree, then type `answers` in order."""
        self.command("start")
        self.press(f"lang:{lang}")
        self.press("consent:yes")
        for answer in answers:
            self._answer(answer)

    def answer_until_summary(self, lang: str = "en", **overrides: str) -> None:
        """Go from /start to the summary with valid answers (overrides by question key)."""
        answers = ANSWERS | {"email": "Maria@Example.com"} | overrides
        self.command("start")
        self.press(f"lang:{lang}")
        self.press("consent:yes")
        for key in (
            "org",
            "name",
            "gender",
            "age",
            "phone",
            "email",
            "city",
            "reason",
            "way",
            "consult_lang",
        ):
            self._answer(answers[key])
        self.press(answers.get("day") or self.first_free("day:"))
        self.press(answers.get("time") or self.first_free("time:2"))
        self._answer(answers["experience"])
        self._answer(answers["notes"])

    def _answer(self, value: str) -> None:
        if ":" in value and value.split(":")[0] in (
            "gender",
            "way",
            "consult_lang",
            "experience",
            "skip",
            "day",
            "time",
        ):
            self.press(value)
        else:
            self.say(value)
