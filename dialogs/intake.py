"""The intake flow: language, consent, the questions, the summary and the booking, and the
crisis guidance that can interrupt it."""

import logging

from dialogs import answers, mybooking, protocol, render, screens, slots
from dialogs.callbacks import unpack
from dialogs.i18n import LANGUAGES, _
from dialogs.messages import (
    Context,
    Input,
    Outcome,
    Reply,
    StaffNote,
    State,
    Turn,
)
from dialogs.parsers import zone_of_phone
from dialogs.questions import (
    BY_KEY,
    CONTACT,
    Question,
    previous_key,
)
from storage import BookingView, SlotTaken

log = logging.getLogger(__name__)

# The yes/no questions whose yes ends the intake, and what is said then.
ENDING = {"cancel": _("cancel.done"), "age": _("age.adults_only")}
# How each way of consulting reaches the client: what the consultant does, nothing the bot
# does not (the bot sends no links and carries no consultation).
HOW = {
    "video": _("book.how.video"),
    "phone": _("book.how.phone"),
    "chat": _("book.how.chat"),
    "in_person": _("book.how.in_person"),
}


def crisis(ctx: Context, state: State | None, risk: str, turn: Turn, sender: str | None) -> State:
    """Guidance for this kind of risk first, what happens next (only what is true), then "are
    you safe right now?"; the staff are alerted once per intake, with a button to take it."""
    state = state or State(lang=turn.hint)
    lang = state.lang
    abuse = risk == "abuse"
    msgid = _("crisis.guidance_abuse") if abuse else _("crisis.guidance")
    lines = ctx.config.abuse_contacts if abuse else ctx.config.crisis_contacts
    contacts = protocol.contacts(lines)
    phone = state.answers.get("phone")
    if phone:
        after = protocol.will_call(ctx, lang, phone)
    else:
        after = ctx.t(lang, "crisis.cannot_call", practice=ctx.config.practice_contact)
    turn.out.events.append(f"risk_seen:{risk}")
    # One alert while it is open (nobody took it yet); a risk after that is news again.
    current = protocol.open_alert(ctx, turn.user_id)
    if current is None:
        note, alert_id = protocol.alert(ctx, turn, state, risk, sender)
        turn.out.staff.append(note)
    else:
        alert_id = current.id
    turn.out.replies = [
        Reply(ctx.t(lang, msgid, contacts=contacts)),
        Reply(after),
        protocol.safety_question(ctx, lang, alert_id),
    ]
    state.urgent = state.urgent or risk
    return state


def crisis_choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    """After the guidance and the safety question: go on with the intake, or pause."""
    lang = state.lang if state else turn.hint
    if unpack(data)[1] == "yes" and state is not None:
        if state.step == "done":
            return begin(ctx, state, turn, None)
        screens.ask(ctx, state, turn.out)
    else:
        turn.out.replies.append(Reply(ctx.t(lang, "crisis.paused")))
    return state


def begin(ctx: Context, state: State | None, turn: Turn, inp: Input | None) -> State:
    """Start a new intake: greet and ask for the interface language."""
    lang = state.lang if state else turn.hint
    turn.out.events.append("intake_started")
    space, value = unpack(inp.value) if inp is not None and inp.kind == "choice" else ("", "")
    if space == "lang":
        return set_language(ctx, State(lang=lang), value, turn)
    upcoming = ctx.store.bookings_of(turn.user_id)
    if upcoming:
        first = upcoming[0]
        when = ctx.t.at(first.start, lang, render.booking_zone(first))
        text = ctx.t(lang, "done.already_booked", when=when, ref=first.ref)
        turn.out.replies.append(Reply(text))
    turn.out.replies.append(screens.language_question(ctx, lang, greeting=True))
    return State(lang=lang)


def choice(ctx: Context, state: State, data: str, turn: Turn) -> State | None:
    out = turn.out
    space, value = unpack(data)
    lang = state.lang
    if space == "lang" and value in LANGUAGES:
        return set_language(ctx, state, value, turn)
    if space in ENDING and state.pending == space:  # "end the intake?" answered
        state.pending = None
        if value == "yes":
            out.replies.append(Reply(ctx.t(lang, ENDING[space])))
            return None
        screens.ask(ctx, state, out)
        return state
    if space == "consent" and state.step == "consent":
        return consent(ctx, state, value, turn)
    if state.step == "summary" and space == "edit" and value in BY_KEY:
        question = BY_KEY[value]
        state.step, state.editing = question.edit_from or question.key, True
        screens.ask(ctx, state, out)
        return state
    if state.step == "summary" and data == "book:confirm":
        return book(ctx, state, turn)
    question = BY_KEY.get(state.step)
    if question and space == question.key:
        return answer_choice(ctx, state, question, value, turn)
    if question and space == "skip" and value == question.key and question.optional:
        return skip(ctx, state, question, out)
    if question and space == "back" and value == question.key:
        return back(ctx, state, question, out)
    if question and space == "unedit" and screens.way_back(ctx, state, question):
        return unedit(ctx, state, out)
    if state.step == "day" and space == "week" and value.lstrip("-").isdigit():
        state.week = int(value)
        screens.ask(ctx, state, out)
        return state
    if state.step == "day" and data == "waitlist:join" and not state.rescheduling:
        return join_waitlist(ctx, state, turn)
    out.replies.append(Reply(ctx.t(lang, "error.stale_button")))
    screens.ask(ctx, state, out)
    return state


def language(ctx: Context, state: State, text: str, turn: Turn) -> State:
    """Text typed at the /language menu: a language's name picks it; anything else is kept
    out of the answers, and the menu asked again."""
    names = [(code, ctx.t.language_name(code, lang)) for code in LANGUAGES for lang in LANGUAGES]
    picked = screens.match(text, names)
    if picked:
        return set_language(ctx, state, picked, turn)
    turn.out.replies.append(Reply(ctx.t(state.lang, "language.use_buttons")))
    turn.out.replies.append(screens.language_question(ctx, state.lang))
    return state


def set_language(ctx: Context, state: State, lang: str, turn: Turn) -> State:
    if state.pending == "language":
        state.pending = None
    state.lang = lang
    if state.step == "language":
        version = ctx.t.notice_version()
        if ctx.store.consent_version(turn.user_id) == version:
            state.step, state.consent_version = "org", version  # agreed to this notice before
        else:
            state.step = "consent"
    screens.ask(ctx, state, turn.out)
    return state


def unedit(ctx: Context, state: State, out: Outcome) -> State:
    """Back to the summary from an Edit, the answer as it was."""
    state.step, state.editing, state.offer = "summary", False, []
    out.replies.append(Reply(ctx.t(state.lang, "edit.kept")))
    screens.ask(ctx, state, out)
    return state


def back(ctx: Context, state: State, question: Question, out: Outcome) -> State:
    """Return to the previous question; every answer given so far is kept."""
    state.step = previous_key(question.key) or question.key
    state.offer = []
    screens.ask(ctx, state, out)
    return state


def skip(ctx: Context, state: State, question: Question, out: Outcome) -> State:
    state.answers.pop(question.key, None)
    answers.advance(ctx, state, question, out)
    return state


def renew_consent_if_changed(ctx: Context, state: State, turn: Turn) -> None:
    """A client who agreed to an older notice reads the new one and agrees again."""
    if state.consent_version != ctx.t.notice_version():
        state.resume, state.step = state.step, "consent"
        turn.out.replies.append(Reply(ctx.t(state.lang, "consent.renewed")))


def consent(ctx: Context, state: State, value: str, turn: Turn) -> State | None:
    out = turn.out
    if value == "yes":
        version = ctx.t.notice_version()
        ctx.store.record_consent(
            user_id=turn.user_id,
            version=version,
            lang=state.lang,
            text_hash=ctx.t.digest(screens.consent_text(ctx, state.lang)),
        )
        state.consent_version = version
        state.step, state.resume = state.resume or "org", None
        out.replies.append(Reply(ctx.t(state.lang, "consent.thanks")))
        screens.ask(ctx, state, out)
        return state
    if value == "full":
        out.replies.append(Reply(screens.privacy_notice(ctx, state.lang)))
        screens.ask(ctx, state, out)
        return state
    # Declined: nothing personal is kept, and the saved state is dropped too.
    out.replies.append(Reply(ctx.t(state.lang, "consent.declined")))
    return None


def answer_choice(ctx: Context, state: State, question: Question, value: str, turn: Turn) -> State:
    out = turn.out
    if question.key == "time" and value == "back":
        state.offer, state.step = [], "day"
        screens.ask(ctx, state, out)
        return state
    if value not in {button_id for button_id, _label in screens.offered(ctx, state, question)}:
        reason = (
            _("error.slot_gone")
            if question.options in ("days", "times")
            else _("error.stale_button")
        )
        out.replies.append(Reply(ctx.t(state.lang, reason)))
        if question.key == "time" and not screens.offered(ctx, state, question):
            state.step = "day"
        screens.ask(ctx, state, out)
        return state
    if question.key == "time":
        return slots.take(ctx, state, question, value, turn)
    state.answers[question.key] = value
    state.misses.pop(question.key, None)
    if state.editing and question.key == "way" and not screens.serves_language(ctx, state):
        state.step = "consult_lang"  # nobody offers their language this way: ask it again
        out.replies.append(Reply(ctx.t(state.lang, "edit.language_again")))
        screens.ask(ctx, state, out)
        return state
    rematched = question.key not in ("way", "consult_lang") or not state.editing
    if not (rematched or state.hold_ref is None or slots.rematch(ctx, state, turn)):
        return state  # no consultant for the new choice at that time: a time is asked again
    answers.advance(ctx, state, question, turn.out)
    return state


def text(ctx: Context, state: State, text: str, turn: Turn) -> State | None:
    out = turn.out
    lang = state.lang
    state.pending = None  # typing instead of answering yes/no goes on with the question
    if state.step == "language":
        picked = screens.match(
            text, [(code, ctx.t.language_name(code, code)) for code in LANGUAGES]
        )
        if picked:
            return set_language(ctx, state, picked, turn)
        screens.ask(ctx, state, out)
        return state
    if state.step == "consent":
        labels = [("yes", ctx.t(lang, "consent.agree")), ("no", ctx.t(lang, "consent.no"))]
        picked = screens.match(text, labels)
        if picked:
            return consent(ctx, state, picked, turn)
        out.replies.append(Reply(ctx.t(lang, "error.use_buttons")))
        screens.ask(ctx, state, out)
        return state
    question = BY_KEY.get(state.step)
    if question is None:  # the summary
        if not answers.continues_free_text(ctx, state, text, out):
            out.replies.append(Reply(ctx.t(lang, "error.use_buttons")))
        screens.ask(ctx, state, out)
        return state
    skips = [("skip", ctx.t(lang, "button.skip")), ("skip", ctx.t(lang, "typed.skip"))]
    if question.optional and screens.match(text, skips):
        return skip(ctx, state, question, out)
    if screens.match(text, [("back", ctx.t(code, "button.back")) for code in LANGUAGES]):
        # "назад" or "back" typed, or the Back key of a reply keyboard, which arrives as text
        if screens.offers_back(ctx, state, question):
            return back(ctx, state, question, out)
        if state.rescheduling and screens.way_back(ctx, state, question):
            return mybooking.keep(ctx, state, turn)
        if screens.way_back(ctx, state, question):
            return unedit(ctx, state, out)
    if question.parse is None:
        picked = screens.match(text, screens.offered(ctx, state, question))
        if picked:
            return answer_choice(ctx, state, question, picked, turn)
        if not answers.continues_free_text(ctx, state, text, out):
            out.replies.append(Reply(ctx.t(lang, "error.use_buttons")))
        screens.ask(ctx, state, out)
        return state
    value = answers.parse(ctx, state, question, text, out)
    if value is None:
        screens.ask(ctx, state, out, progress=False)
        return state
    if question.stop_below is not None and value < question.stop_below:
        state.pending = "age"
        out.replies.append(
            screens.yes_no(
                ctx, lang, _("age.confirm_under"), "age", _("age.yes"), _("age.no"), age=value
            )
        )
        return state
    if question.lookup == "org" and "org" not in state.answers:  # not an edit: a new intake
        ctx.store.count_intake_started(value)
    state.answers[question.key] = value
    state.misses.pop(question.key, None)
    if question.saved:
        out.replies.append(Reply(ctx.t(lang, question.saved, value=value)))
    answers.advance(ctx, state, question, out)
    return state


def contact(ctx: Context, state: State, inp: Input, turn: Turn) -> State:
    phone = answers.own_phone(ctx, state, inp, turn)
    if phone is not None:
        return text(ctx, state, phone, turn)
    screens.ask(ctx, state, turn.out)
    return state


def book(ctx: Context, state: State, turn: Turn) -> State:
    out = turn.out
    lang, answers = state.lang, state.answers
    start = screens.parse_slot(answers["time"], ctx.store)
    try:
        booked = ctx.store.book(
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
        return slots.lost(ctx, state, start, out)
    log.info("booking %s made", booked.ref)
    out.events.append("intake_completed")
    ctx.store.leave_waitlist(turn.user_id)  # booked: no time is offered to them any more
    tell_booked(ctx, ctx.store.booking(booked.ref), out)
    return State(
        lang=lang, step="done", booking_ref=booked.ref, consent_version=state.consent_version
    )


def tell_booked(ctx: Context, booking: BookingView, out: Outcome) -> None:
    """The client's confirmation with its calendar file, and the staff's notice."""
    lang, answers = booking.client_lang, booking.answers
    confirmation = ctx.t(
        lang,
        "book.confirmed",
        when=ctx.t.record(booking.start, lang, zone_of_phone(answers.get("phone"))),
        minutes=ctx.store.schedule.session_minutes,
        ref=booking.ref,
        way=render.way_name(ctx, booking.way, lang),
        how=ctx.t(lang, HOW.get(booking.way, HOW["video"]), phone=answers.get("phone", "")),
        contact=ctx.config.practice_contact,
    )
    out.replies.append(Reply(confirmation, document=render.calendar_file(ctx, booking)))
    out.staff.append(render.staff_note(ctx, booking))


def join_waitlist(ctx: Context, state: State, turn: Turn) -> State:
    answers = state.answers
    contact = {key: answers[key] for key in CONTACT if key in answers}
    ctx.store.join_waitlist(  # with the answers a freed time is booked with (dialogs/waitlist)
        user_id=turn.user_id,
        chat_id=turn.chat_id,
        way=answers.get("way", ""),
        consult_lang=answers.get("consult_lang", ""),
        client_lang=state.lang,
        answers={key: value for key, value in answers.items() if key not in ("day", "time")},
        urgent=state.urgent,
    )
    staff = ctx.config.staff_lang
    unknown = ctx.t(staff, "crisis.not_given")
    turn.out.staff.append(
        StaffNote(
            ctx.t(
                staff,
                "staff.waitlist",
                **{key: contact.get(key, unknown) for key in CONTACT},
                way=render.way_name(ctx, answers.get("way", "video"), staff),
                consult_lang=ctx.t.language_name(
                    answers.get("consult_lang", staff), staff, title=False
                ),
            )
        )
    )
    turn.out.replies.append(Reply(ctx.t(state.lang, "waitlist.joined")))
    return state
