"""What happens once a risk is seen, beyond the guidance: the staff alert with "I'm calling",
the client's answer to "are you safe right now?", and raising an alert nobody has taken.

The alert is a row (storage/alerts.py) so that the first tap wins and a job can raise it again;
it holds no words of the client's, only the kind of risk."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from dialogs import roles, screens
from dialogs.callbacks import pack, unpack
from dialogs.i18n import _
from dialogs.messages import Button, Context, Input, Reply, StaffNote, State, Turn
from dialogs.parsers import Invalid, parse_phone
from dialogs.questions import CRISIS_LABELS
from storage import ALERT_REF, AlertView

log = logging.getLogger(__name__)


def contacts(lines: tuple[str, ...]) -> str:
    """The configured lines, one per line, to follow 112."""
    return "".join(f"\n• {line}" for line in lines)


def not_heard(ctx: Context, lang: str) -> str:
    """For a voice message, video note or sticker: please type, and where help is now."""
    return ctx.t(lang, "error.not_heard", contacts=contacts(ctx.config.crisis_contacts))


OPEN_FOR = timedelta(hours=1)  # an alert nobody took is still the one a new risk belongs to
REPEAT_FOR = timedelta(hours=2)  # an alert nobody takes is posted again until it is this old


def open_alert(ctx: Context, user_id: int) -> AlertView | None:
    """The client's alert that nobody has taken yet, if it is recent."""
    found = ctx.store.latest_alert(user_id)
    if found is None or found.acknowledged_at is not None:
        return None
    return found if ctx.store.clock() - found.raised_at < OPEN_FOR else None


def safety_question(ctx: Context, lang: str, alert_id: int) -> Reply:
    """ "Are you safe right now?" about this alert: the answer goes to it, not a later one."""
    return Reply(
        ctx.t(lang, "crisis.ask_safe"),
        [
            [
                Button(pack("safe", "yes", alert_id), ctx.t(lang, "crisis.safe_yes")),
                Button(pack("safe", "no", alert_id), ctx.t(lang, "crisis.safe_no")),
            ]
        ],
    )


def alert_number(alert_id: int) -> str:
    """How staff and client name an alert: short, and not a booking's reference."""
    return f"A-{alert_id}"


def alert_ref(alert_id: int) -> str:
    """What the outbox knows an alert's posts by, so that erasure can reach them."""
    return f"{ALERT_REF}{alert_id}"


def take_button(ctx: Context, alert_id: int) -> list[list[Button]]:
    return [[Button(pack("alert", "take", alert_id), ctx.t(ctx.config.staff_lang, "staff.take"))]]


def known_answers(ctx: Context, user_id: int, state: State | None) -> dict:
    """The answers of the intake in progress, or else of the client's latest booking (a booked
    client's intake is over, but their name and number are known)."""
    answers = state.answers if state else {}
    if "phone" not in answers:
        booked = ctx.store.client_bookings(user_id)
        answers = {**(booked[-1].answers if booked else {}), **answers}
    return answers


def opening_hours(ctx: Context, lang: str) -> str:
    """The opening hours as the admin wrote them, with the practice's zone."""
    zone = ctx.t.zone_name(ctx.store.clock().astimezone(ctx.store.schedule.tz), lang)
    return f"{ctx.config.opening_hours} {zone}"


def _details(ctx: Context, user_id: int, state: State | None, sender: str | None) -> dict[str, str]:
    """Who to call: the name and phone the bot knows (known_answers). Never the risk category:
    the whole group reads this; the one who takes the alert sees it."""
    staff = ctx.config.staff_lang
    unknown = ctx.t(staff, "crisis.not_given")
    answers = known_answers(ctx, user_id, state)
    return {
        "name": answers.get("name", unknown),
        "phone": answers.get("phone", unknown),
        "telegram": sender or ctx.t(staff, "staff.alert_see_first"),
    }


def alert(
    ctx: Context, turn: Turn, state: State, risk: str, sender: str | None
) -> tuple[StaffNote, int]:
    """A new alert: a row to take it by, and the group message."""
    config = ctx.config
    alert_id = ctx.store.raise_alert(
        user_id=turn.user_id,
        chat_id=turn.chat_id,
        category=risk,
        ask_within=timedelta(minutes=config.safety_check_minutes),
        take_within=timedelta(minutes=config.alert_take_minutes),
    )
    staff = config.staff_lang
    text = ctx.t(
        staff,
        "staff.urgent_alert",
        ref=alert_number(alert_id),
        minutes=config.alert_take_minutes,
        **_details(ctx, turn.user_id, state, sender),
    )
    log.warning("urgent alert queued for the staff (%s)", risk)
    return StaffNote(text, alert_ref(alert_id), take_button(ctx, alert_id), urgent=True), alert_id


def safety_choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    """The answer to "are you safe right now?"; "no" raises the alert at once."""
    lang = state.lang if state else turn.hint
    answer, _sep, alert_id = unpack(data)[1].partition(":")
    found = ctx.store.alert(int(alert_id)) if alert_id.isdigit() else None
    if found is None or found.user_id != turn.user_id:  # an old or forged button
        found = ctx.store.latest_alert(turn.user_id)
    if answer == "no":
        text = ctx.t(lang, "crisis.not_safe", contacts=contacts(ctx.config.crisis_contacts))
        turn.out.replies.append(Reply(text))
        if found and ctx.store.answer_safety(found.id, "unsafe"):
            turn.out.staff.append(raised(ctx, found, state, _("staff.alert_unsafe")))
            turn.out.events.append("alert_unsafe")
    else:
        turn.out.replies.append(Reply(ctx.t(lang, "crisis.glad_safe")))
        if found:
            ctx.store.answer_safety(found.id, "safe")
    if state is not None and not state.answers.get("phone"):  # nobody can call: ask
        turn.out.replies.append(
            screens.yes_no(
                ctx,
                lang,
                _("crisis.offer_call"),
                "callme",
                _("crisis.call_me"),
                _("crisis.no_call"),
            )
        )
    else:
        turn.out.replies.append(go_on_question(ctx, lang))
    return state


def go_on_question(ctx: Context, lang: str) -> Reply:
    return screens.yes_no(
        ctx, lang, _("crisis.ask_continue"), "crisis", _("crisis.continue"), _("crisis.stop")
    )


def call_me_choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    """Whether the client wants a call back: if so, their number is asked for."""
    lang = state.lang if state else turn.hint
    if unpack(data)[1] == "yes" and state is not None:
        state.pending = "call_me"
        button, hint = screens.share_phone(ctx, lang)
        turn.out.replies.append(Reply(ctx.t(lang, "crisis.send_number"), [], button, hint))
        return state
    turn.out.replies.append(go_on_question(ctx, lang))
    return state


def call_me_number(ctx: Context, state: State, inp: Input, turn: Turn) -> State:
    """The number to call back: to the staff as a new message under the alert, never kept in
    the intake unless the client gives it there too."""
    lang = state.lang
    if inp.kind == "contact":
        if inp.contact_user_id != turn.user_id:
            turn.out.replies.append(Reply(ctx.t(lang, "error.contact_not_own")))
            return state
        typed = inp.value if inp.value.startswith("+") else "+" + inp.value
    else:
        typed = inp.value
    try:
        phone = parse_phone(typed)
    except Invalid as invalid:
        turn.out.replies.append(Reply(ctx.t(lang, invalid.reason, **invalid.params)))
        # Asked again once, with a way out; typing on after that is not a number we wait for.
        state.misses["call_me"] = state.misses.get("call_me", 0) + 1
        if state.misses["call_me"] >= 2:
            state.pending = None
            del state.misses["call_me"]
            turn.out.replies.append(go_on_question(ctx, lang))
            return state
        way_out = [[Button(pack("callme", "no"), ctx.t(lang, "crisis.no_call"))]]
        turn.out.replies.append(Reply(ctx.t(lang, "crisis.send_number"), way_out))
        return state
    state.pending = None
    state.misses.pop("call_me", None)
    found = ctx.store.latest_alert(turn.user_id)
    if found is not None:
        turn.out.staff.append(raised(ctx, found, state, _("staff.alert_call_me"), phone))
        turn.out.events.append("alert_call_me")
    turn.out.replies += [Reply(will_call(ctx, lang, phone)), go_on_question(ctx, lang)]
    return state


def will_call(ctx: Context, lang: str, phone: str) -> str:
    """What the client is promised: a call to `phone` in opening hours, in the practice's zone."""
    return ctx.t(lang, "crisis.will_call", phone=phone, hours=opening_hours(ctx, lang))


def raised(
    ctx: Context, found: AlertView, state: State | None, msgid: str, phone: str | None = None
) -> StaffNote:
    """A new, louder group message about an alert: not an edit, so that it notifies."""
    staff = ctx.config.staff_lang
    minutes = int((ctx.store.clock() - found.raised_at).total_seconds() // 60)
    text = ctx.t(
        staff,
        msgid,
        ref=alert_number(found.id),
        minutes=minutes,
        taken=_taken_line(ctx, found) if found.acknowledged_by else "",
        **(_details(ctx, found.user_id, state, None) | ({"phone": phone} if phone else {})),
    )
    buttons = [] if found.acknowledged_by else take_button(ctx, found.id)
    return StaffNote(text, alert_ref(found.id), buttons, urgent=True)


def _taken_line(ctx: Context, found: AlertView) -> str:
    staff = ctx.config.staff_lang
    when = ctx.t.clock(found.acknowledged_at.astimezone(ctx.store.schedule.tz), staff)
    return "\n\n" + ctx.t(staff, "staff.alert_taken_line", who=found.acknowledged_by, when=when)


def escalations(ctx: Context) -> list[tuple[StaffNote, str]]:
    """Alerts to raise again now, each once: the client did not answer whether they are safe,
    or nobody in the team has taken the alert. With the event each is counted as."""
    notes = []
    for found in ctx.store.take_silent_alerts():
        state = _state_of(ctx, found.user_id)
        notes.append((raised(ctx, found, state, _("staff.alert_silent")), "alert_silent"))
    every = timedelta(minutes=ctx.config.alert_take_minutes)
    for found in ctx.store.take_untaken_alerts(every, REPEAT_FOR):
        state = _state_of(ctx, found.user_id)
        notes.append((raised(ctx, found, state, _("staff.alert_untaken")), "alert_reraised"))
    return notes


def _state_of(ctx: Context, user_id: int) -> State | None:
    saved = ctx.store.load_conversation(user_id)
    return State.load(saved) if saved else None


@dataclass(frozen=True)
class Taken:
    """What an "I'm calling" tap gives: the answer to the tap (to the tapper alone), and for
    the one who took the alert the line to add to it, how long it waited, and the access to
    record (they were shown the risk category)."""

    answer: str
    line: str | None = None
    waited: float | None = None
    access: dict | None = None


def take(ctx: Context, *, alert_id: int, staff_user_id: int, staff_name: str) -> Taken:
    """ "I'm calling" tapped. Only the first tap takes it; the others are told who did."""
    staff = ctx.config.staff_lang
    role = roles.role_for(ctx, staff_user_id, "take_alert")
    if role is None:
        return Taken(roles.refusal(ctx, "take_alert"))
    consultant = ctx.store.consultant_by_telegram(staff_user_id)
    name = consultant.name if consultant else staff_name
    won, found = ctx.store.acknowledge_alert(alert_id, name)
    if found is None:
        return Taken(ctx.t(staff, "staff.details_gone"))
    if not won:
        return Taken(ctx.t(staff, "staff.alert_already", who=found.acknowledged_by))
    log.info("crisis alert taken by staff")
    roles.audit(ctx, staff_user_id, role, "take_alert", alert_number(found.id))
    category = ctx.t(staff, CRISIS_LABELS.get(found.category, "crisis.category.suicide"))
    access = {
        "client_user_id": found.user_id,
        "staff_user_id": staff_user_id,
        "staff_name": name,
        "booking_ref": alert_number(found.id),
        "what": "risk",
    }
    return Taken(
        ctx.t(staff, "staff.alert_yours", category=category),
        _taken_line(ctx, found).strip(),
        (found.acknowledged_at - found.raised_at).total_seconds(),
        access,
    )
