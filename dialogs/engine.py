"""The intake conversation: (saved state, input) -> (new state, what to show).

The engine reads the client's state, routes the input to its flow (intake, slots, my booking,
rights, staff) and saves the state again; every flow is a module of plain functions.
"""

import dataclasses
import logging

from dialogs import (
    human,
    intake,
    mybooking,
    own_time,
    pending,
    protocol,
    render,
    rights,
    screens,
    setup,
    staff_actions,
    staff_bookings,
    waitlist,
)
from dialogs.callbacks import unpack
from dialogs.crisis import CrisisScreen
from dialogs.i18n import Texts, _, pick_language
from dialogs.messages import Context, Input, IntakeConfig, Outcome, Reply, State, Turn
from dialogs.questions import BY_KEY
from storage import BookingView, Store

log = logging.getLogger(__name__)


class IntakeEngine:
    """Walks a client through QUESTIONS; the front calls it inside the update's transaction."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        config: IntakeConfig | None = None,
        screen: CrisisScreen | None = None,
    ):
        self.ctx = Context(
            store,
            texts,
            config or IntakeConfig(),
            screen or CrisisScreen.load(texts.locales_dir / "crisis"),
        )
        self.store, self.t = store, texts

    @property
    def config(self) -> IntakeConfig:
        return self.ctx.config

    @config.setter
    def config(self, config: IntakeConfig) -> None:
        self.ctx = dataclasses.replace(self.ctx, config=config)

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
        ctx = self.ctx
        with ctx.store.availability_once():
            saved = ctx.store.load_conversation(user_id)
            state = State.load(saved) if saved else None
            turn = Turn(user_id, chat_id, pick_language(language_hint), Outcome())
            risk = ctx.screen.check(inp.value) if inp.kind in SCREENED else None
            if inp.kind in ("edited", "caption") and not risk:
                # An edit never changes an answer; a photo's caption is not an answer.
                if inp.kind == "edited":
                    return turn.out
                inp = Input("other")
            if state and state.step not in ("language", "consent", "done") and not risk:
                intake.renew_consent_if_changed(ctx, state, turn)
            # A message showing risk answers only a free-text question; "my husband beats me"
            # is not a name.
            question = BY_KEY.get(state.step) if state else None
            answers_question = question and question.free_text and not state.correcting
            if not risk or (answers_question and inp.kind == "text"):
                state = dispatch(ctx, state, inp, turn)
            if risk:
                state = intake.crisis(ctx, state, risk, turn, sender)
            if state is None:
                ctx.store.delete_conversation(user_id)
            else:
                ctx.store.save_conversation(
                    user_id=user_id,
                    chat_id=chat_id,
                    state=dataclasses.asdict(state),
                    active=state.step != "done",
                )
        # Only the kind of input and the step: never what the client wrote, nor who they are.
        log.debug("handled %s input, now at %s", inp.kind, state.step if state else "no intake")
        return turn.out

    def nudge(self, user_id: int) -> tuple[int, Outcome] | None:
        """A gentle reminder to an intake left untouched: (chat id, what to send), or None."""
        saved = self.store.load_conversation(user_id)
        state = State.load(saved) if saved else None
        if state is None or state.step == "done":
            return None
        out = Outcome([Reply(self.t(state.lang, "idle.nudge"))])
        screens.ask(self.ctx, state, out)
        return self.store.conversation_chat(user_id), out

    # What the front asks outside a client's own turn

    def staff_action(self, **kwargs) -> tuple[str, Outcome]:
        return staff_actions.staff_action(self.ctx, **kwargs)

    def staff_booking(self, **kwargs) -> staff_bookings.Tap:
        return staff_bookings.tap(self.ctx, **kwargs)

    def staff_details(self, **kwargs) -> tuple[str, list[str]]:
        return rights.staff_details(self.ctx, **kwargs)

    def details_access(self, **kwargs) -> dict | None:
        return rights.details_access(self.ctx, **kwargs)

    def take_alert(self, **kwargs) -> protocol.Taken:
        return protocol.take(self.ctx, **kwargs)

    def escalations(self) -> list:
        return protocol.escalations(self.ctx)

    def chase_pending(self) -> Outcome:
        return pending.chase(self.ctx)

    def offer_freed_times(self) -> Outcome:
        return waitlist.chase(self.ctx)

    def waitlist(self, _argument: str, *, staff_user_id: int, staff_name: str):
        return waitlist.staff_view(self.ctx, staff_user_id=staff_user_id, staff_name=staff_name)

    def agenda(self, argument: str, *, staff_user_id: int, staff_name: str):
        return rights.agenda(self.ctx, argument, staff_user_id=staff_user_id, staff_name=staff_name)

    def own_command(self, *, user_id: int, text: str) -> Reply | None:
        """A consultant's /timeoff or /myhours in private; None for anything else."""
        return own_time.command(self.ctx, user_id, text)

    def setup_report(self, **kwargs) -> str:
        return setup.report(self.ctx, **kwargs)

    def reminder(self, booking: BookingView) -> Reply:
        return render.reminder(self.ctx, booking)


# Input kinds whose text is screened for risk: messages, photo captions, edited messages.
SCREENED = ("text", "caption", "edited")

# Buttons whose flow takes them whatever the step, by namespace; the others belong to the
# question being asked (intake.choice).
BUTTON_FLOWS = {
    "crisis": intake.crisis_choice,
    "safe": protocol.safety_choice,
    "callme": protocol.call_me_choice,
    "human": human.choice,
    "mybooking": mybooking.choice,
    "fix": rights.choice,
    "erase": rights.choice,
    "wl": waitlist.choice,
}


def dispatch(ctx: Context, state: State | None, inp: Input, turn: Turn) -> State | None:
    """Route one input to the flow that takes it."""
    if state and state.pending in ("call_me", "human") and inp.kind not in ("text", "contact"):
        state.pending = None  # a button or a command instead of the number: not waited for
    if state and state.pending == "language" and inp.kind != "text":
        state.pending = None  # a button or a command instead of a language: the menu is left
    flow = BUTTON_FLOWS.get(unpack(inp.value)[0]) if inp.kind == "choice" else None
    if flow is not None:
        return flow(ctx, state, inp.value, turn)
    if inp.kind == "command":
        state = run_command(ctx, state, inp.value, turn)
    elif state and state.pending == "call_me" and inp.kind in ("text", "contact"):
        state = protocol.call_me_number(ctx, state, inp, turn)
    elif state and state.pending == "human" and inp.kind in ("text", "contact"):
        state = human.number(ctx, state, inp, turn)
    elif state and state.pending == "language" and inp.kind == "text":
        state = intake.language(ctx, state, inp.value, turn)
    elif state and state.correcting and inp.kind in ("text", "contact"):
        state = rights.correct(ctx, state, inp, turn)
    elif inp.kind == "voice":  # a voice message may be a cry for help we cannot hear
        turn.out.replies.append(Reply(protocol.not_heard(ctx, state.lang if state else turn.hint)))
        if state and state.step != "done":
            screens.ask(ctx, state, turn.out)
    elif state is None or state.step == "done":
        state = intake.begin(ctx, state, turn, inp)
    elif inp.kind == "choice":
        state = intake.choice(ctx, state, inp.value, turn)
    elif inp.kind == "text":
        state = intake.text(ctx, state, inp.value, turn)
    elif inp.kind == "contact":
        state = intake.contact(ctx, state, inp, turn)
    else:
        turn.out.replies.append(Reply(ctx.t(state.lang, "error.not_text")))
        screens.ask(ctx, state, turn.out)
    return state


def run_command(ctx: Context, state: State | None, command: str, turn: Turn) -> State | None:
    out = turn.out
    lang = state.lang if state else turn.hint
    active = state is not None and state.step != "done"
    if state:
        state.correcting = None
    if command == "start":
        if active:
            out.replies.append(Reply(ctx.t(lang, "start.welcome_back")))
            screens.ask(ctx, state, out)
            return state
        return intake.begin(ctx, state, turn, None)
    if command == "language":
        if state:
            state.pending = "language"  # what is typed now is not an answer (intake.language)
        out.replies.append(screens.language_question(ctx, lang))
        return state
    if command in ("mydata", "deletedata", "withdraw"):
        return rights.command(ctx, state, command, turn)
    if command == "mybooking":
        return mybooking.show(ctx, state, turn)
    if command == "human":
        return human.ask(ctx, state, turn)
    if command == "privacy":
        out.replies.append(Reply(screens.privacy_notice(ctx, lang)))
    elif command == "help":
        out.replies.append(human.help_reply(ctx, lang))
    elif command == "cancel":
        if not active:
            out.replies.append(Reply(ctx.t(lang, "cancel.nothing")))
            return state
        state.pending = "cancel"
        out.replies.append(
            screens.yes_no(
                ctx, lang, _("cancel.confirm"), "cancel", _("cancel.yes"), _("cancel.no")
            )
        )
        return state
    else:
        out.replies.append(Reply(ctx.t(lang, "help.unknown_command")))
    if active:
        screens.ask(ctx, state, out)
    return state
