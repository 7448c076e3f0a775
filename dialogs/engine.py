"""The intake conversation: (saved state, input) -> (new state, what to show)."""

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from dialogs.i18n import LANGUAGES, Texts, _, pick_language
from dialogs.parsers import Invalid
from dialogs.questions import BY_KEY, QUESTIONS, WAY_LABELS, Question, next_key
from storage import SlotTaken, Store

log = logging.getLogger(__name__)

SUMMARY_SNIPPET = 300  # long free-text answers are shortened in the summary
# Day and time are one question to the client: only the day is counted.
NUMBERED = [question.key for question in QUESTIONS if question.key != "time"]


@dataclass(frozen=True)
class Input:
    """What the client did: typed text, pressed a button, shared a contact, sent a command."""

    kind: Literal["text", "choice", "contact", "command", "other"]
    value: str = ""
    contact_user_id: int | None = None


@dataclass(frozen=True)
class Button:
    data: str  # "namespace:id", never a label
    label: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    contact_button: str | None = None  # label of a "share my phone number" button


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)  # messages for the staff group


@dataclass
class State:
    lang: str
    step: str = "language"  # "language", "consent", a question key, "summary" or "done"
    answers: dict[str, Any] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)
    editing: bool = False  # came from the summary: return there after this answer
    pending: str | None = None  # a yes/no question in between: "cancel" or "age"
    offer: list[str] = field(default_factory=list)  # slots offered after losing one
    consented_at: str | None = None
    booking_ref: str | None = None

    @classmethod
    def load(cls, data: dict) -> "State":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class IntakeConfig:
    ways: tuple[str, ...] = ("video", "phone", "chat")
    consult_langs: tuple[str, ...] = ("bg", "en")
    staff_lang: str = "bg"
    practice_name: str = "Kabinet.bg"
    practice_contact: str = "private@kabinet.bg"


class IntakeEngine:
    """Walks a client through QUESTIONS, saving the state in the store after every input."""

    def __init__(self, store: Store, texts: Texts, config: IntakeConfig = IntakeConfig()):
        self.store = store
        self.t = texts
        self.config = config

    # Entry point

    def handle(
        self, *, user_id: int, chat_id: int, inp: Input, language_hint: str | None = None
    ) -> Outcome:
        """Apply one input from one client and return what to show them and the staff."""
        saved = self.store.load_conversation(user_id)
        state = State.load(saved) if saved else None
        out = Outcome()
        if inp.kind == "command":
            state = self._command(state, inp.value, pick_language(language_hint), user_id, out)
        elif state is None or state.step == "done":
            state = self._begin(state, pick_language(language_hint), user_id, out, inp)
        elif inp.kind == "choice":
            state = self._choice(state, inp.value, user_id, chat_id, out)
        elif inp.kind == "text":
            state = self._text(state, inp.value, out)
        elif inp.kind == "contact":
            state = self._contact(state, inp, user_id, out)
        else:
            out.replies.append(Reply(self.t(state.lang, "error.not_text")))
            self._ask(state, out)
        if state is None:
            self.store.delete_conversation(user_id)
        else:
            self.store.save_conversation(
                user_id=user_id, chat_id=chat_id, state=dataclasses.asdict(state)
            )
        return out

    # Commands

    def _command(
        self, state: State | None, command: str, hint: str, user_id: int, out: Outcome
    ) -> State | None:
        lang = state.lang if state else hint
        active = state is not None and state.step != "done"
        if command == "start":
            if active:
                out.replies.append(Reply(self.t(lang, "start.welcome_back")))
                self._ask(state, out)
                return state
            return self._begin(state, hint, user_id, out, None)
        if command == "language":
            out.replies.append(self._language_question(lang))
            return state
        if command == "privacy":
            out.replies.append(Reply(self.t.privacy_notice(lang)))
        elif command == "help":
            out.replies.append(Reply(self.t(lang, "help.commands")))
        elif command == "cancel":
            if not active:
                out.replies.append(Reply(self.t(lang, "cancel.nothing")))
                return state
            state.pending = "cancel"
            out.replies.append(
                Reply(
                    self.t(lang, "cancel.confirm"),
                    [
                        [
                            Button("cancel:yes", self.t(lang, "cancel.yes")),
                            Button("cancel:no", self.t(lang, "cancel.no")),
                        ]
                    ],
                )
            )
            return state
        else:
            out.replies.append(Reply(self.t(lang, "help.unknown_command")))
        if active:
            self._ask(state, out)
        return state

    def _begin(
        self, state: State | None, hint: str, user_id: int, out: Outcome, inp: Input | None
    ) -> State:
        """Start a new intake: greet and ask for the interface language."""
        lang = state.lang if state else hint
        if inp is not None and inp.kind == "choice" and inp.value.startswith("lang:"):
            return self._set_language(State(lang=lang), inp.value.removeprefix("lang:"), out)
        upcoming = self.store.bookings_of(user_id)
        if upcoming:
            out.replies.append(
                Reply(
                    self.t(
                        lang,
                        "done.already_booked",
                        when=self.t.when(upcoming[0].start, lang),
                        ref=upcoming[0].ref,
                    )
                )
            )
        out.replies.append(self._language_question(lang, greeting=True))
        return State(lang=lang)

    # Buttons

    def _choice(
        self, state: State, data: str, user_id: int, chat_id: int, out: Outcome
    ) -> State | None:
        space, _sep, value = data.partition(":")
        lang = state.lang
        if space == "lang" and value in LANGUAGES:
            return self._set_language(state, value, out)
        if space == "cancel" and state.pending == "cancel":
            state.pending = None
            if value == "yes":
                out.replies.append(Reply(self.t(lang, "cancel.done")))
                return None
            self._ask(state, out)
            return state
        if space == "age" and state.pending == "age":
            state.pending = None
            if value == "yes":
                out.replies.append(Reply(self.t(lang, "age.adults_only")))
                return None
            self._ask(state, out)
            return state
        if space == "consent" and state.step == "consent":
            return self._consent(state, value, out)
        if state.step == "summary" and space == "edit" and value in BY_KEY:
            question = BY_KEY[value]
            state.step, state.editing = question.edit_from or question.key, True
            self._ask(state, out)
            return state
        if state.step == "summary" and data == "book:confirm":
            return self._book(state, user_id, chat_id, out)
        question = BY_KEY.get(state.step)
        if question and space == question.key:
            return self._answer_choice(state, question, value, out)
        if question and space == "skip" and value == question.key and question.optional:
            return self._skip(state, question, out)
        out.replies.append(Reply(self.t(lang, "error.stale_button")))
        self._ask(state, out)
        return state

    def _set_language(self, state: State, lang: str, out: Outcome) -> State:
        state.lang = lang
        if state.step == "language":
            state.step = "consent"
        self._ask(state, out)
        return state

    def _skip(self, state: State, question: Question, out: Outcome) -> State:
        state.answers.pop(question.key, None)
        self._advance(state, question, out)
        return state

    def _consent(self, state: State, value: str, out: Outcome) -> State | None:
        if value == "yes":
            state.consented_at = datetime.now().astimezone().isoformat(timespec="seconds")
            state.step = "org"
            out.replies.append(Reply(self.t(state.lang, "consent.thanks")))
            self._ask(state, out)
            return state
        if value == "full":
            out.replies.append(Reply(self.t.privacy_notice(state.lang)))
            self._ask(state, out)
            return state
        # Declined: nothing personal was asked, and the saved state is dropped too.
        out.replies.append(Reply(self.t(state.lang, "consent.declined")))
        return None

    def _answer_choice(self, state: State, question: Question, value: str, out: Outcome) -> State:
        if question.key == "time" and value == "back":
            state.offer, state.step = [], "day"
            self._ask(state, out)
            return state
        if value not in {button_id for button_id, _label in self._options(state, question)}:
            reason = (
                _("error.slot_gone")
                if question.options in ("days", "times")
                else _("error.stale_button")
            )
            out.replies.append(Reply(self.t(state.lang, reason)))
            if question.key == "time" and not self._options(state, question):
                state.step = "day"
            self._ask(state, out)
            return state
        state.answers[question.key] = value
        state.misses.pop(question.key, None)
        self._advance(state, question, out)
        return state

    # Typed answers

    def _text(self, state: State, text: str, out: Outcome) -> State | None:
        lang = state.lang
        state.pending = None  # typing instead of answering yes/no goes on with the question
        if state.step == "language":
            picked = _match(text, [(code, self.t.language_name(code, code)) for code in LANGUAGES])
            if picked:
                return self._set_language(state, picked, out)
            self._ask(state, out)
            return state
        if state.step == "consent":
            labels = [("yes", self.t(lang, "consent.agree")), ("no", self.t(lang, "consent.no"))]
            picked = _match(text, labels)
            if picked:
                return self._consent(state, picked, out)
            out.replies.append(Reply(self.t(lang, "error.use_buttons")))
            self._ask(state, out)
            return state
        question = BY_KEY.get(state.step)
        if question is None:  # the summary
            out.replies.append(Reply(self.t(lang, "error.use_buttons")))
            self._ask(state, out)
            return state
        if question.optional and _match(text, [("skip", self.t(lang, "button.skip"))]):
            return self._skip(state, question, out)
        if question.parse is None:
            picked = _match(text, self._options(state, question))
            if picked:
                return self._answer_choice(state, question, picked, out)
            out.replies.append(Reply(self.t(lang, "error.use_buttons")))
            self._ask(state, out)
            return state
        return self._answer_text(state, question, text, out)

    def _answer_text(self, state: State, question: Question, text: str, out: Outcome) -> State:
        lang = state.lang
        try:
            value = question.parse(text)
            if question.lookup == "org":
                org = self.store.find_active_org(value)
                if org is None:
                    raise Invalid(_("error.org_unknown"))
                value = org.code
        except Invalid as invalid:
            misses = state.misses[question.key] = state.misses.get(question.key, 0) + 1
            message = self.t(lang, invalid.reason, **invalid.params)
            if question.help and misses >= question.help_after_misses:
                message += "\n\n" + self.t(
                    lang, question.help, contact=self.config.practice_contact
                )
            out.replies.append(Reply(message))
            self._ask(state, out, progress=False)
            return state
        if question.stop_below is not None and value < question.stop_below:
            state.pending = "age"
            out.replies.append(
                Reply(
                    self.t(lang, "age.confirm_under", age=value),
                    [
                        [
                            Button("age:yes", self.t(lang, "age.yes")),
                            Button("age:no", self.t(lang, "age.no")),
                        ]
                    ],
                )
            )
            return state
        state.answers[question.key] = value
        state.misses.pop(question.key, None)
        self._advance(state, question, out)
        return state

    def _contact(self, state: State, inp: Input, user_id: int, out: Outcome) -> State:
        question = BY_KEY.get(state.step)
        if question is None or not question.accepts_contact:
            out.replies.append(Reply(self.t(state.lang, "error.not_text")))
        elif inp.contact_user_id != user_id:
            out.replies.append(Reply(self.t(state.lang, "error.contact_not_own")))
        else:
            digits = inp.value.strip()
            return self._answer_text(
                state, question, digits if digits.startswith("+") else "+" + digits, out
            )
        self._ask(state, out)
        return state

    # Moving on

    def _advance(self, state: State, question: Question, out: Outcome) -> None:
        if question.key == "day":
            state.step = "time"
        elif state.editing:
            state.step, state.editing = "summary", False
            out.replies.append(Reply(self.t(state.lang, "edit.saved")))
        else:
            state.step = next_key(question.key)
        if state.step != "time":
            state.offer = []
        self._ask(state, out)

    def _book(self, state: State, user_id: int, chat_id: int, out: Outcome) -> State:
        lang, answers = state.lang, state.answers
        start = datetime.fromisoformat(answers["time"]).replace(tzinfo=self.store.schedule.tz)
        try:
            booked = self.store.book(
                start=start,
                user_id=user_id,
                chat_id=chat_id,
                org_code=answers["org"],
                way=answers["way"],
                consult_lang=answers["consult_lang"],
                client_lang=lang,
                answers=answers,
            )
        except SlotTaken:
            nearest = self.store.nearest_free(start)
            state.answers.pop("time")
            state.step, state.editing = "time", True
            state.offer = [_slot_id(slot) for slot in nearest]
            out.replies.append(Reply(self.t(lang, "book.taken")))
            self._ask(state, out)
            return state
        log.info("booking %s made", booked.ref)
        org = self.store.find_active_org(answers["org"])
        way_label = WAY_LABELS[answers["way"]]
        out.replies.append(
            Reply(
                self.t(
                    lang,
                    "book.confirmed",
                    when=self.t.when(booked.start, lang),
                    ref=booked.ref,
                    way=self.t(lang, way_label),
                    contact=self.config.practice_contact,
                )
            )
        )
        staff = self.config.staff_lang
        out.staff.append(
            self.t(
                staff,
                "staff.new_booking",
                ref=booked.ref,
                when=self.t.when(booked.start, staff),
                way=self.t(staff, way_label),
                consult_lang=self.t.language_name(answers["consult_lang"], staff, title=False),
                org=f"{org.name} ({org.code})" if org else answers["org"],
                name=answers["name"],
                phone=answers["phone"],
                email=answers["email"],
            )
        )
        return State(lang=lang, step="done", booking_ref=booked.ref)

    # Showing a question

    def _ask(self, state: State, out: Outcome, progress: bool = True) -> None:
        lang = state.lang
        if state.step == "language":
            out.replies.append(self._language_question(lang))
        elif state.step == "consent":
            out.replies.append(
                Reply(
                    self.t(lang, "ask.consent", practice=self.config.practice_name),
                    [
                        [Button("consent:yes", self.t(lang, "consent.agree"))],
                        [Button("consent:full", self.t(lang, "consent.read_full"))],
                        [Button("consent:no", self.t(lang, "consent.no"))],
                    ],
                )
            )
        elif state.step == "summary":
            out.replies.append(self._summary(state))
        elif state.step in BY_KEY:
            out.replies.append(self._question(state, BY_KEY[state.step], progress))

    def _language_question(self, lang: str, greeting: bool = False) -> Reply:
        text = (
            self.t(lang, "start.greeting", practice=self.config.practice_name) + "\n\n"
            if greeting
            else ""
        )
        return Reply(
            text + self.t(lang, "ask.language"),
            [
                [
                    Button(
                        f"lang:{code}",
                        ("✓ " if code == lang else "") + self.t.language_name(code, code),
                    )
                    for code in LANGUAGES
                ]
            ],
        )

    def _question(self, state: State, question: Question, progress: bool) -> Reply:
        lang = state.lang
        options = self._options(state, question)
        params: dict[str, object] = {}
        if question.key == "time" and "day" in state.answers and not state.offer:
            params["day"] = self.t.long_day(date.fromisoformat(state.answers["day"]), lang)
        text = self.t(lang, question.prompt, **params)
        if question.key == "time" and state.offer:
            text = self.t(lang, "ask.time_offer")
        if question.options in ("days", "times") and not options:
            return Reply(self.t(lang, "book.nothing_free", contact=self.config.practice_contact))
        if progress and question.key in NUMBERED and not state.editing:
            number = NUMBERED.index(question.key) + 1
            text = self.t(lang, "fmt.progress", n=number, total=len(NUMBERED)) + "\n" + text
        buttons = _rows(
            [Button(f"{question.key}:{i}", label) for i, label in options], question.columns
        )
        if question.key == "time":
            buttons.append([Button("time:back", self.t(lang, "button.other_day"))])
        if question.optional:
            buttons.append([Button(f"skip:{question.key}", self.t(lang, "button.skip"))])
        contact = self.t(lang, "button.share_phone") if question.accepts_contact else None
        return Reply(text, buttons, contact)

    def _options(self, state: State, question: Question) -> list[tuple[str, str]]:
        """(id, label) of each button a question offers right now."""
        lang = state.lang
        if question.choices:
            return [(c.id, self.t(lang, c.label)) for c in question.choices]
        if question.options == "ways":
            return [(way, self.t(lang, WAY_LABELS[way])) for way in self.config.ways]
        if question.options == "consult_langs":
            return [(code, self.t.language_name(code, lang)) for code in self.config.consult_langs]
        if question.options == "days":
            return [(day.isoformat(), self.t.day(day, lang)) for day in self.store.free_days()]
        if question.options == "times":
            if state.offer:
                free = set(self.store.free_slots())
                slots = [s for s in (_parse_slot(i, self.store) for i in state.offer) if s in free]
                return [
                    (_slot_id(s), f"{self.t.day(s.date(), lang)} {self.t.clock(s, lang)}")
                    for s in slots
                ]
            day = date.fromisoformat(state.answers.get("day", "1970-01-01"))
            return [(_slot_id(s), self.t.clock(s, lang)) for s in self.store.free_slots_on(day)]
        return []

    def _summary(self, state: State) -> Reply:
        lang = state.lang
        lines = [self.t(lang, "summary.title"), ""]
        edits = []
        for question in QUESTIONS:
            if question.label is None:
                continue
            shown = self._shown(state, question)
            lines.append(f"{self.t(lang, question.label)}: {shown}")
            edits.append(Button(f"edit:{question.key}", "✏️ " + self.t(lang, question.label)))
        lines += ["", self.t(lang, "summary.hint")]
        buttons = _rows(edits, 2)
        buttons.append([Button("book:confirm", self.t(lang, "button.confirm"))])
        return Reply("\n".join(lines), buttons)

    def _shown(self, state: State, question: Question) -> str:
        """An answer as the client reads it in the summary."""
        lang = state.lang
        value = state.answers.get(question.key)
        if value is None:
            return self.t(lang, "summary.skipped")
        if question.key == "time":
            return self.t.when(_parse_slot(value, self.store), lang)
        labels = dict(self._options(state, question)) if not question.parse else {}
        if value in labels:
            return labels[value]
        text = str(value)
        return text if len(text) <= SUMMARY_SNIPPET else text[:SUMMARY_SNIPPET].rstrip() + "…"


def _slot_id(slot: datetime) -> str:
    """A slot's button id: local wall time, minute precision (fits callback_data)."""
    return slot.strftime("%Y-%m-%dT%H:%M")


def _parse_slot(slot_id: str, store: Store) -> datetime:
    return datetime.fromisoformat(slot_id).replace(tzinfo=store.schedule.tz)


def _rows(buttons: list[Button], columns: int) -> list[list[Button]]:
    return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


def _match(text: str, options: list[tuple[str, str]]) -> str | None:
    """The option whose id or label the client typed (case and spaces ignored)."""
    wanted = " ".join(text.casefold().split()).lstrip("✓ ")
    for option_id, label in options:
        if wanted in (option_id.casefold(), " ".join(label.casefold().split()).lstrip("✓ ")):
            return option_id
    return None
