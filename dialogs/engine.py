"""The intake conversation: (saved state, input) -> (new state, what to show)."""

import dataclasses
import logging
from datetime import date, datetime
from typing import Any

from dialogs.bookings import BookingMixin
from dialogs.crisis import CrisisScreen
from dialogs.i18n import LANGUAGES, Texts, _, pick_language
from dialogs.messages import (
    Button,
    Input,
    IntakeConfig,
    Outcome,
    Reply,
    StaffNote,
    State,
    Turn,
    rows,
)
from dialogs.parsers import Invalid
from dialogs.questions import (
    BY_KEY,
    CRISIS_LABELS,
    QUESTIONS,
    WAY_LABELS,
    Question,
    next_key,
    previous_key,
)
from dialogs.rights import RightsMixin
from storage import SlotTaken, Store

log = logging.getLogger(__name__)

SUMMARY_SNIPPET = 300  # long free-text answers are shortened in the summary
# Day and time are one question to the client: only the day is counted.
NUMBERED = [question.key for question in QUESTIONS if question.key != "time"]


class IntakeEngine(RightsMixin, BookingMixin):
    """Walks a client through QUESTIONS, saving the state in the store after every input."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        config: IntakeConfig | None = None,
        screen: CrisisScreen | None = None,
    ):
        self.store = store
        self.t = texts
        self.config = config or IntakeConfig()
        self.screen = screen or CrisisScreen.load(texts.locales_dir / "crisis")

    # Entry point

    def handle(
        self,
        *,
        user_id: int,
        chat_id: int,
        inp: Input,
        language_hint: str | None = None,
        sender: str | None = None,
    ) -> Outcome:
        """Apply one input from one client and return what to show them and the staff.

        `sender` (e.g. a Telegram @username) only goes into an urgent alert to the staff.
        """
        with self.store.availability_once():
            return self._handle(user_id, chat_id, inp, language_hint, sender)

    def _handle(
        self,
        user_id: int,
        chat_id: int,
        inp: Input,
        language_hint: str | None,
        sender: str | None,
    ) -> Outcome:
        saved = self.store.load_conversation(user_id)
        state = State.load(saved) if saved else None
        turn = Turn(user_id, chat_id, pick_language(language_hint), Outcome())
        risk = self.screen.check(inp.value) if inp.kind == "text" else None
        if state and state.step not in ("language", "consent", "done") and not risk:
            self._check_consent_is_current(state, turn)
        # A message showing risk answers only a free-text question; "my husband beats me" is
        # not a name.
        question = BY_KEY.get(state.step) if state else None
        if not risk or (question and question.free_text and not state.correcting):
            state = self._dispatch(state, inp, turn)
        if risk:
            state = self._crisis(state, risk, turn, sender)
        if state is None:
            self.store.delete_conversation(user_id)
        else:
            self.store.save_conversation(
                user_id=user_id,
                chat_id=chat_id,
                state=dataclasses.asdict(state),
                active=state.step != "done",
            )
        # Only the kind of input and the step: never what the client wrote, nor who they are.
        log.debug("handled %s input, now at %s", inp.kind, state.step if state else "no intake")
        return turn.out

    def _dispatch(self, state: State | None, inp: Input, turn: Turn) -> State | None:
        if inp.kind == "choice" and inp.value.startswith("crisis:"):
            return self._crisis_choice(state, inp.value.removeprefix("crisis:"), turn)
        if inp.kind == "choice" and inp.value.startswith("mybooking:"):
            return self._booking_choice(state, inp.value, turn)
        if inp.kind == "command":
            state = self._command(state, inp.value, turn)
        elif inp.kind == "choice" and inp.value.split(":")[0] in ("fix", "erase"):
            state = self._rights_choice(state, inp.value, turn)
        elif state and state.correcting and inp.kind in ("text", "contact"):
            state = self._correct(state, inp, turn)
        elif state is None or state.step == "done":
            state = self._begin(state, turn, inp)
        elif inp.kind == "choice":
            state = self._choice(state, inp.value, turn)
        elif inp.kind == "text":
            state = self._text(state, inp.value, turn)
        elif inp.kind == "contact":
            state = self._contact(state, inp, turn)
        else:
            turn.out.replies.append(Reply(self.t(state.lang, "error.not_text")))
            self._ask(state, turn.out)
        return state

    # Acute risk

    def _crisis(self, state: State | None, risk: str, turn: Turn, sender: str | None) -> State:
        """Emergency guidance first, then ask whether to go on; alert the staff once."""
        state = state or State(lang=turn.hint)
        lang = state.lang
        contacts = "".join(f"\n• {contact}" for contact in self.config.crisis_contacts)
        guidance = self.t(
            lang, "crisis.guidance", contacts=contacts, practice=self.config.practice_contact
        )
        turn.out.replies = [
            Reply(guidance),
            self._yes_no(
                lang, _("crisis.ask_continue"), "crisis", _("crisis.continue"), _("crisis.stop")
            ),
        ]
        if state.urgent is None:
            staff = self.config.staff_lang
            unknown = self.t(staff, "crisis.not_given")
            turn.out.staff.append(
                StaffNote(
                    self.t(
                        staff,
                        "staff.urgent_alert",
                        category=self.t(staff, CRISIS_LABELS[risk]),
                        name=state.answers.get("name", unknown),
                        phone=state.answers.get("phone", unknown),
                        telegram=sender or unknown,
                    ),
                    urgent=True,
                )
            )
            log.warning("urgent alert queued for the staff (%s)", risk)
        state.urgent = state.urgent or risk
        return state

    def _crisis_choice(self, state: State | None, value: str, turn: Turn) -> State | None:
        lang = state.lang if state else turn.hint
        if value == "yes" and state is not None:
            if state.step == "done":
                return self._begin(state, turn, None)
            self._ask(state, turn.out)
        else:
            turn.out.replies.append(Reply(self.t(lang, "crisis.paused")))
        return state

    # Commands

    def _command(self, state: State | None, command: str, turn: Turn) -> State | None:
        out = turn.out
        lang = state.lang if state else turn.hint
        active = state is not None and state.step != "done"
        if state:
            state.correcting = None
        if command == "start":
            if active:
                out.replies.append(Reply(self.t(lang, "start.welcome_back")))
                self._ask(state, out)
                return state
            return self._begin(state, turn, None)
        if command == "language":
            out.replies.append(self._language_question(lang))
            return state
        if command in ("mydata", "deletedata", "withdraw"):
            return self._rights_command(state, command, turn)
        if command == "mybooking":
            return self._my_booking(state, turn)
        if command == "privacy":
            out.replies.append(Reply(self._privacy_notice(lang)))
        elif command == "help":
            out.replies.append(Reply(self.t(lang, "help.commands")))
        elif command == "cancel":
            if not active:
                out.replies.append(Reply(self.t(lang, "cancel.nothing")))
                return state
            state.pending = "cancel"
            out.replies.append(
                self._yes_no(lang, _("cancel.confirm"), "cancel", _("cancel.yes"), _("cancel.no"))
            )
            return state
        else:
            out.replies.append(Reply(self.t(lang, "help.unknown_command")))
        if active:
            self._ask(state, out)
        return state

    def _begin(self, state: State | None, turn: Turn, inp: Input | None) -> State:
        """Start a new intake: greet and ask for the interface language."""
        lang = state.lang if state else turn.hint
        turn.out.events.append("intake_started")
        if inp is not None and inp.kind == "choice" and inp.value.startswith("lang:"):
            return self._set_language(State(lang=lang), inp.value.removeprefix("lang:"), turn)
        upcoming = self.store.bookings_of(turn.user_id)
        if upcoming:
            first = upcoming[0]
            text = self.t(
                lang, "done.already_booked", when=self.t.when(first.start, lang), ref=first.ref
            )
            turn.out.replies.append(Reply(text))
        turn.out.replies.append(self._language_question(lang, greeting=True))
        return State(lang=lang)

    # Buttons

    def _choice(self, state: State, data: str, turn: Turn) -> State | None:
        out = turn.out
        space, _sep, value = data.partition(":")
        lang = state.lang
        if space == "lang" and value in LANGUAGES:
            return self._set_language(state, value, turn)
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
            return self._consent(state, value, turn)
        if state.step == "summary" and space == "edit" and value in BY_KEY:
            question = BY_KEY[value]
            state.step, state.editing = question.edit_from or question.key, True
            self._ask(state, out)
            return state
        if state.step == "summary" and data == "book:confirm":
            return self._book(state, turn)
        question = BY_KEY.get(state.step)
        if question and space == question.key:
            return self._answer_choice(state, question, value, turn)
        if question and space == "skip" and value == question.key and question.optional:
            return self._skip(state, question, out)
        if question and space == "back" and value == question.key:
            return self._back(state, question, out)
        if state.step == "day" and space == "week" and value.lstrip("-").isdigit():
            state.week = int(value)
            self._ask(state, out)
            return state
        if state.step == "day" and data == "waitlist:join" and not state.rescheduling:
            return self._join_waitlist(state, turn)
        out.replies.append(Reply(self.t(lang, "error.stale_button")))
        self._ask(state, out)
        return state

    def _set_language(self, state: State, lang: str, turn: Turn) -> State:
        state.lang = lang
        if state.step == "language":
            version = self.t.notice_version()
            if self.store.consent_version(turn.user_id) == version:
                state.step, state.consent_version = "org", version  # agreed to this notice before
            else:
                state.step = "consent"
        self._ask(state, turn.out)
        return state

    def _back(self, state: State, question: Question, out: Outcome) -> State:
        """Return to the previous question; every answer given so far is kept."""
        state.step = previous_key(question.key) or question.key
        state.offer = []
        self._ask(state, out)
        return state

    def _skip(self, state: State, question: Question, out: Outcome) -> State:
        state.answers.pop(question.key, None)
        self._advance(state, question, out)
        return state

    def _check_consent_is_current(self, state: State, turn: Turn) -> None:
        """A client who agreed to an older notice reads the new one and agrees again."""
        if state.consent_version != self.t.notice_version():
            state.resume, state.step = state.step, "consent"
            turn.out.replies.append(Reply(self.t(state.lang, "consent.renewed")))

    def _consent(self, state: State, value: str, turn: Turn) -> State | None:
        out = turn.out
        if value == "yes":
            version = self.t.notice_version()
            self.store.record_consent(
                user_id=turn.user_id,
                version=version,
                lang=state.lang,
                text_hash=self.t.digest(self._consent_text(state.lang)),
            )
            state.consent_version = version
            state.step, state.resume = state.resume or "org", None
            out.replies.append(Reply(self.t(state.lang, "consent.thanks")))
            self._ask(state, out)
            return state
        if value == "full":
            out.replies.append(Reply(self._privacy_notice(state.lang)))
            self._ask(state, out)
            return state
        # Declined: nothing personal is kept, and the saved state is dropped too.
        out.replies.append(Reply(self.t(state.lang, "consent.declined")))
        return None

    def _answer_choice(self, state: State, question: Question, value: str, turn: Turn) -> State:
        out = turn.out
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
        if question.key == "time":
            return self._take_time(state, question, value, turn)
        state.answers[question.key] = value
        state.misses.pop(question.key, None)
        self._advance(state, question, turn.out)
        return state

    def _take_time(self, state: State, question: Question, value: str, turn: Turn) -> State:
        """A picked time is held at once, or, when moving a booking, taken over."""
        start = _parse_slot(value, self.store)
        if state.rescheduling:
            return self._reschedule_to(state, start, turn)
        way, lang = self._wants(state)
        try:
            state.hold_ref = self.store.hold(
                start=start,
                user_id=turn.user_id,
                chat_id=turn.chat_id,
                way=way,
                lang=lang,
                client_lang=state.lang,
            )
        except SlotTaken:
            return self._slot_lost(state, start, turn.out)
        state.answers["time"] = value
        self._advance(state, question, turn.out)
        return state

    # Typed answers

    def _text(self, state: State, text: str, turn: Turn) -> State | None:
        out = turn.out
        lang = state.lang
        state.pending = None  # typing instead of answering yes/no goes on with the question
        if state.step == "language":
            picked = _match(text, [(code, self.t.language_name(code, code)) for code in LANGUAGES])
            if picked:
                return self._set_language(state, picked, turn)
            self._ask(state, out)
            return state
        if state.step == "consent":
            labels = [("yes", self.t(lang, "consent.agree")), ("no", self.t(lang, "consent.no"))]
            picked = _match(text, labels)
            if picked:
                return self._consent(state, picked, turn)
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
        if self._offers_back(state, question) and _match(
            text, [("back", self.t(lang, "button.back"))]
        ):  # the Back key of a reply keyboard arrives as text
            return self._back(state, question, out)
        if question.parse is None:
            picked = _match(text, self._options(state, question))
            if picked:
                return self._answer_choice(state, question, picked, turn)
            out.replies.append(Reply(self.t(lang, "error.use_buttons")))
            self._ask(state, out)
            return state
        value = self._parse(state, question, text, out)
        if value is None:
            self._ask(state, out, progress=False)
            return state
        if question.stop_below is not None and value < question.stop_below:
            state.pending = "age"
            out.replies.append(
                self._yes_no(
                    lang, _("age.confirm_under"), "age", _("age.yes"), _("age.no"), age=value
                )
            )
            return state
        state.answers[question.key] = value
        state.misses.pop(question.key, None)
        if question.saved:
            out.replies.append(Reply(self.t(lang, question.saved, value=value)))
        self._advance(state, question, out)
        return state

    def _parse(self, state: State, question: Question, text: str, out: Outcome) -> Any:
        """The parsed answer, or None after telling the client what is wrong with it."""
        try:
            value = question.parse(text)
            if question.lookup == "org":
                org = self.store.find_active_org(value)
                if org is None:
                    raise Invalid(_("error.org_unknown"))
                value = org.code
            return value
        except Invalid as invalid:
            misses = state.misses[question.key] = state.misses.get(question.key, 0) + 1
            message = self.t(state.lang, invalid.reason, **invalid.params)
            if question.help and misses >= question.help_after_misses:
                message += "\n\n" + self.t(
                    state.lang, question.help, contact=self.config.practice_contact
                )
            out.replies.append(Reply(message))
            return None

    def _contact(self, state: State, inp: Input, turn: Turn) -> State:
        phone = self._own_phone(state, inp, turn)
        if phone is not None:
            return self._text(state, phone, turn)
        self._ask(state, turn.out)
        return state

    def _own_phone(self, state: State, inp: Input, turn: Turn) -> str | None:
        """The number of a shared contact if it is the sender's own, else None (and why)."""
        question = BY_KEY.get(state.correcting or state.step)
        if question is None or not question.accepts_contact:
            turn.out.replies.append(Reply(self.t(state.lang, "error.not_text")))
        elif inp.contact_user_id != turn.user_id:
            turn.out.replies.append(Reply(self.t(state.lang, "error.contact_not_own")))
        else:
            digits = inp.value.strip()
            return digits if digits.startswith("+") else "+" + digits
        return None

    # Moving on

    def _advance(self, state: State, question: Question, out: Outcome) -> None:
        if question.key == "day":
            state.step = "time"
        elif state.editing:
            state.step, state.editing = "summary", False
            out.replies.append(Reply(self.t(state.lang, "edit.saved")))
        else:
            state.step = next_key(question.key)
        state.offer = []  # times offered instead of a lost one are for that moment only
        self._ask(state, out)

    def _book(self, state: State, turn: Turn) -> State:
        out = turn.out
        lang, answers = state.lang, state.answers
        start = _parse_slot(answers["time"], self.store)
        try:
            booked = self.store.book(
                hold_ref=state.hold_ref,
                start=start,
                user_id=turn.user_id,
                chat_id=turn.chat_id,
                org_code=answers["org"],
                way=answers["way"],
                consult_lang=answers["consult_lang"],
                client_lang=lang,
                answers=answers,
                urgent=state.urgent,
            )
        except SlotTaken:
            return self._slot_lost(state, start, out)
        log.info("booking %s made", booked.ref)
        out.events.append("intake_completed")
        booking = self.store.booking(booked.ref)
        confirmation = self.t(
            lang,
            "book.confirmed",
            when=self.t.when(booked.start, lang),
            ref=booked.ref,
            way=self.way_name(booking.way, lang),
            contact=self.config.practice_contact,
        )
        out.replies.append(Reply(confirmation, document=self.calendar_file(booking)))
        out.staff.append(self._staff_note(booking))
        return State(
            lang=lang, step="done", booking_ref=booked.ref, consent_version=state.consent_version
        )

    def _slot_lost(self, state: State, start: datetime, out: Outcome) -> State:
        """Someone else took the slot: say so kindly and offer the nearest free ones."""
        way, lang = self._wants(state)
        state.answers.pop("time", None)
        state.hold_ref = None
        state.step, state.editing = "time", True
        state.offer = [_slot_id(slot) for slot in self.store.nearest_free(start, way, lang)]
        out.replies.append(Reply(self.t(state.lang, "book.taken")))
        self._ask(state, out)
        return state

    def _wants(self, state: State) -> tuple[str | None, str | None]:
        """The way and language the slots must fit: the intake's, or the moved booking's."""
        if state.rescheduling:
            booking = self.store.booking(state.rescheduling)
            if booking:
                return booking.way, booking.consult_lang
        return state.answers.get("way"), state.answers.get("consult_lang")

    def nudge(self, user_id: int) -> tuple[int, Outcome] | None:
        """A gentle reminder to an intake left untouched: (chat id, what to send), or None."""
        saved = self.store.load_conversation(user_id)
        state = State.load(saved) if saved else None
        if state is None or state.step == "done":
            return None
        out = Outcome([Reply(self.t(state.lang, "idle.nudge"))])
        self._ask(state, out)
        return self.store.conversation_chat(user_id), out

    # Showing a question

    def _ask(self, state: State, out: Outcome, progress: bool = True) -> None:
        lang = state.lang
        if state.correcting:
            out.replies.append(self._correction_question(state))
        elif state.step == "language":
            out.replies.append(self._language_question(lang))
        elif state.step == "consent":
            out.replies.append(
                Reply(
                    self._consent_text(lang),
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
            if state.step == "time" and not self._options(state, BY_KEY["time"]):
                # Others took the day's last times (or the times offered) meanwhile: not
                # "nothing free", but another day.
                state.step, state.offer = "day", []
                out.replies.append(Reply(self.t(lang, "error.slot_gone")))
            out.replies.append(self._question(state, BY_KEY[state.step], progress))

    def _consent_text(self, lang: str) -> str:
        return self.t(lang, "ask.consent", practice=self.config.practice_name)

    def _privacy_notice(self, lang: str) -> str:
        return self.t.privacy_notice(
            lang,
            abandoned_days=self.config.abandoned_intake_days,
            booking_days=self.config.booking_retention_days,
        )

    def _yes_no(
        self, lang: str, question: str, space: str, yes: str, no: str, **params: object
    ) -> Reply:
        return Reply(
            self.t(lang, question, **params),
            [[Button(f"{space}:yes", self.t(lang, yes)), Button(f"{space}:no", self.t(lang, no))]],
        )

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
            nothing = self.t(lang, "book.nothing_free", contact=self.config.practice_contact)
            if state.rescheduling:
                return Reply(nothing)
            return Reply(nothing, [[Button("waitlist:join", self.t(lang, "waitlist.join"))]])
        paging: list[Button] = []
        if question.options == "days":
            options, paging = self._week_page(state, options)
        if progress and question.key in NUMBERED and not state.editing and not state.rescheduling:
            number = NUMBERED.index(question.key) + 1
            text = self.t(lang, "fmt.progress", n=number, total=len(NUMBERED)) + "\n" + text
        buttons = rows(
            [Button(f"{question.key}:{i}", label) for i, label in options], question.columns
        )
        if paging:
            buttons.append(paging)
        if question.key == "time":
            buttons.append([Button("time:back", self.t(lang, "button.other_day"))])
        if question.optional:
            buttons.append([Button(f"skip:{question.key}", self.t(lang, "button.skip"))])
        if self._offers_back(state, question):
            buttons.append([Button(f"back:{question.key}", self.t(lang, "button.back"))])
        contact = self.t(lang, "button.share_phone") if question.accepts_contact else None
        return Reply(text, buttons, contact)

    def _week_page(
        self, state: State, days: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[Button]]:
        """The free days of one week at a time, with buttons to the weeks around it."""
        weeks = sorted({date.fromisoformat(day).isocalendar()[:2] for day, _label in days})
        state.week = max(0, min(state.week, len(weeks) - 1))
        shown = [d for d in days if date.fromisoformat(d[0]).isocalendar()[:2] == weeks[state.week]]
        paging = []
        if state.week > 0:
            paging.append(Button(f"week:{state.week - 1}", self.t(state.lang, "button.prev_week")))
        if state.week < len(weeks) - 1:
            paging.append(Button(f"week:{state.week + 1}", self.t(state.lang, "button.next_week")))
        return shown, paging

    def _offers_back(self, state: State, question: Question) -> bool:
        # From the summary an answer is changed in place; "Another day" is the time's Back.
        return (
            not state.editing
            and not state.rescheduling
            and not state.correcting
            and question.key != "time"
            and previous_key(question.key) is not None
        )

    def _options(self, state: State, question: Question) -> list[tuple[str, str]]:
        """(id, label) of each button a question offers right now."""
        lang = state.lang
        if question.choices:
            return [(c.id, self.t(lang, c.label)) for c in question.choices]
        if question.options == "ways":
            return [(way, self.t(lang, WAY_LABELS[way])) for way in self.config.ways]
        if question.options == "consult_langs":
            return [(code, self.t.language_name(code, lang)) for code in self.config.consult_langs]
        way, consult_lang = self._wants(state)
        if question.options == "days":
            return [
                (day.isoformat(), self.t.day(day, lang))
                for day in self.store.free_days(way, consult_lang)
            ]
        if question.options == "times":
            if state.offer:
                free = set(self.store.free_slots(way, consult_lang))
                slots = [s for s in (_parse_slot(i, self.store) for i in state.offer) if s in free]
                return [
                    (_slot_id(s), f"{self.t.day(s.date(), lang)} {self.t.clock(s, lang)}")
                    for s in slots
                ]
            day = date.fromisoformat(state.answers.get("day", "1970-01-01"))
            return [
                (_slot_id(s), self.t.clock(s, lang))
                for s in self.store.free_slots_on(day, way, consult_lang)
            ]
        return []

    def _summary(self, state: State) -> Reply:
        lang = state.lang
        lines = [self.t(lang, "summary.title"), ""]
        edits = []
        for question in QUESTIONS:
            if question.label is None:
                continue
            lines.append(f"{self.t(lang, question.label)}: {self.shown(state, question)}")
            edits.append(Button(f"edit:{question.key}", "✏️ " + self.t(lang, question.label)))
        lines += ["", self.t(lang, "summary.hint")]
        buttons = rows(edits, 2)
        buttons.append([Button("book:confirm", self.t(lang, "button.confirm"))])
        return Reply("\n".join(lines), buttons)

    def shown(self, state: State, question: Question, limit: int | None = SUMMARY_SNIPPET) -> str:
        """An answer as a person reads it; long free text is cut at `limit`."""
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
        return text if limit is None or len(text) <= limit else text[:limit].rstrip() + "…"


def _slot_id(slot: datetime) -> str:
    """A slot's button id: local wall time, minute precision (fits callback_data)."""
    return slot.strftime("%Y-%m-%dT%H:%M")


def _parse_slot(slot_id: str, store: Store) -> datetime:
    return datetime.fromisoformat(slot_id).replace(tzinfo=store.schedule.tz)


def _match(text: str, options: list[tuple[str, str]]) -> str | None:
    """The option whose id or label the client typed (case and spaces ignored)."""
    wanted = " ".join(text.casefold().split()).lstrip("✓ ")
    for option_id, label in options:
        if wanted in (option_id.casefold(), " ".join(label.casefold().split()).lstrip("✓ ")):
            return option_id
    return None
