"""A client asks for a person (/human, or the button under /help): a call-back request to the
staff group with the name and phone the bot has, never the client's own words."""

from datetime import datetime, timedelta

from dialogs import screens
from dialogs.callbacks import pack
from dialogs.i18n import _
from dialogs.messages import Button, Context, Input, Reply, StaffNote, State, Turn
from dialogs.parsers import Invalid, parse_phone
from dialogs.protocol import known_answers, opening_hours

AGAIN_AFTER = timedelta(minutes=30)  # a second request within this is not posted again


def help_reply(ctx: Context, lang: str) -> Reply:
    """/help: the commands, how to reach the practice and when, and a way to a person."""
    text = ctx.t(
        lang, "help.commands", contact=ctx.config.practice_contact, hours=opening_hours(ctx, lang)
    )
    return Reply(text, [[Button(pack("human", "ask"), ctx.t(lang, "human.button"))]])


def choice(ctx: Context, state: State | None, _data: str, turn: Turn) -> State | None:
    """The "Talk to a person" button."""
    return ask(ctx, state, turn)


def ask(ctx: Context, state: State | None, turn: Turn) -> State | None:
    """Queue a call-back to the staff if the bot has a number, else ask for one."""
    lang = state.lang if state else turn.hint
    if state is None or state.consent_version is None:
        # Nothing personal is asked before the client agreed to the privacy note.
        turn.out.replies.append(Reply(_reach_us(ctx, lang, _("human.write_to_us"))))
        return state
    now = ctx.store.clock()
    if state.human_asked_at and now - datetime.fromisoformat(state.human_asked_at) < AGAIN_AFTER:
        turn.out.replies.append(Reply(ctx.t(lang, "human.asked_already")))
    elif phone := known_answers(ctx, turn.user_id, state).get("phone"):
        _call_back(ctx, state, turn, phone)
    else:
        state.pending = "human"
        button, hint = screens.share_phone(ctx, lang)
        text = _reach_us(ctx, lang, _("human.send_number"))
        turn.out.replies.append(Reply(text, [], button, hint))
        return state
    _resume(ctx, state, turn)
    return state


def number(ctx: Context, state: State, inp: Input, turn: Turn) -> State:
    """The number to call back, typed or shared: to the staff, not kept in the intake."""
    shared = inp.kind == "contact"
    if shared and inp.contact_user_id != turn.user_id:
        turn.out.replies.append(Reply(ctx.t(state.lang, "error.contact_not_own")))
        return state  # still waiting for their own number
    state.pending = None
    try:
        phone = parse_phone("+" + inp.value.lstrip("+") if shared else inp.value)
    except Invalid as invalid:
        turn.out.replies.append(Reply(ctx.t(state.lang, invalid.reason, **invalid.params)))
        turn.out.replies.append(Reply(_reach_us(ctx, state.lang, _("human.no_number"))))
    else:
        _call_back(ctx, state, turn, phone)
    _resume(ctx, state, turn)
    return state


def _call_back(ctx: Context, state: State, turn: Turn, phone: str) -> None:
    staff = ctx.config.staff_lang
    name = known_answers(ctx, turn.user_id, state).get("name") or ctx.t(staff, "crisis.not_given")
    turn.out.staff.append(StaffNote(ctx.t(staff, "staff.human", name=name, phone=phone)))
    state.human_asked_at = ctx.store.clock().isoformat()
    text = ctx.t(state.lang, "human.will_call", phone=phone, hours=opening_hours(ctx, state.lang))
    turn.out.replies.append(Reply(text))


def _resume(ctx: Context, state: State, turn: Turn) -> None:
    """An intake in progress goes on with its question."""
    if state.step not in ("done", "consent", "language"):
        screens.ask(ctx, state, turn.out)


def _reach_us(ctx: Context, lang: str, msgid: str) -> str:
    return ctx.t(lang, msgid, contact=ctx.config.practice_contact, hours=opening_hours(ctx, lang))
