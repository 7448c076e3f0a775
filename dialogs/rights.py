"""The client's rights in the chat (/mydata, correction, erasure) and staff access to details."""

import json
import logging
from datetime import UTC, datetime, tzinfo

from dialogs import answers, render, roles, screens
from dialogs.callbacks import pack, unpack
from dialogs.i18n import _
from dialogs.messages import (
    Button,
    Context,
    Input,
    Reply,
    StaffEdit,
    State,
    Turn,
    rows,
    split_message,
)
from dialogs.parsers import zone_of_phone
from dialogs.questions import (
    BY_KEY,
    CORRECTABLE,
    CRISIS_LABELS,
    QUESTIONS,
)
from dialogs.render import CLIENT_STATUS
from storage import STANDING

# How /mydata tells the client what a staff member saw of them.
ACCESS_LINES = {
    "details": _("mydata.access_line"),
    "agenda": _("mydata.access_agenda"),
    "risk": _("mydata.access_risk"),
    "waitlist": _("mydata.access_waitlist"),
}

log = logging.getLogger(__name__)

MYDATA_SNIPPET = 200


def command(ctx: Context, state: State | None, command: str, turn: Turn) -> State | None:
    lang = state.lang if state else turn.hint
    if command == "mydata":
        turn.out.replies.extend(my_data(ctx, turn.user_id, lang))
        return state
    if not has_data(ctx, turn.user_id, state):
        turn.out.replies.append(Reply(ctx.t(lang, "mydata.nothing")))
        return state
    state = state or State(lang=lang, step="done")
    state.pending = "erase"
    upcoming = ctx.store.bookings_of(turn.user_id)
    if upcoming:
        question = (
            _("withdraw.confirm_booked") if command == "withdraw" else _("erase.confirm_booked")
        )
        first = upcoming[0]
        when = ctx.t.at(first.start, lang, render.booking_zone(first))
    else:
        question = _("withdraw.confirm") if command == "withdraw" else _("erase.confirm")
        when = ""
    turn.out.replies.append(
        screens.yes_no(ctx, lang, question, "erase", _("erase.yes"), _("erase.no"), when=when)
    )
    return state


def choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    lang = state.lang if state else turn.hint
    space, value = unpack(data)
    if data == "erase:ask":  # the button under /mydata
        return command(ctx, state, "deletedata", turn)
    if space == "erase" and state is not None and state.pending == "erase":
        state.pending = None
        if value == "yes":
            erase(ctx, turn, lang)
            return None
        turn.out.replies.append(Reply(ctx.t(lang, "erase.kept")))
        screens.ask(ctx, state, turn.out)
        return state
    if space == "fix" and value in CORRECTABLE and has_data(ctx, turn.user_id, state):
        state = state or State(lang=lang, step="done")
        state.correcting = value
        screens.ask(ctx, state, turn.out)
        return state
    turn.out.replies.append(Reply(ctx.t(lang, "error.stale_button")))
    if state is not None and state.step != "done":
        screens.ask(ctx, state, turn.out)
    return state


def correct(ctx: Context, state: State, inp: Input, turn: Turn) -> State:
    """Apply a corrected answer everywhere it is kept; staff see it from now on."""
    key = state.correcting
    text = inp.value if inp.kind == "text" else answers.own_phone(ctx, state, inp, turn)
    value = None if text is None else answers.parse(ctx, state, BY_KEY[key], text, turn.out)
    if value is None:
        screens.ask(ctx, state, turn.out, progress=False)
        return state
    state.correcting = None
    if key in state.answers:
        state.answers[key] = value
    for booking in ctx.store.correct_answer(user_id=turn.user_id, key=key, value=value):
        turn.out.staff_edits += render.staff_edit(ctx, booking)
    turn.out.replies.append(Reply(ctx.t(state.lang, "fix.done")))
    log.info("a client corrected their %s", key)
    if state.step != "done":
        screens.ask(ctx, state, turn.out)
    return state


def erase(ctx: Context, turn: Turn, lang: str) -> None:
    staff = ctx.config.staff_lang
    erased_alert = ctx.t(staff, "staff.alert_erased")
    for chat, message_id in ctx.store.forget_alert_posts(turn.user_id):
        turn.out.rewrites.append((chat, message_id, erased_alert))
    erased_copy = ctx.t(staff, "staff.copy_erased")  # Details sent in private, waiting-list notes
    for chat, message_id in ctx.store.forget_copies(turn.user_id):
        turn.out.rewrites.append((chat, message_id, erased_copy))
    done = _("erase.done")  # the client is told of a cancelled consultation only if there was one
    for booking in ctx.store.erase_client(turn.user_id):
        active = booking.status in STANDING
        cancelled = active and booking.start > ctx.store.clock()
        message = _("staff.erased_cancelled") if cancelled else _("staff.erased")
        text = ctx.t(staff, message, ref=booking.ref, when=ctx.t.when(booking.start, staff))
        turn.out.staff_edits.append(StaffEdit(booking.ref, text))
        if cancelled:
            done = _("erase.done_cancelled")
        elif done == "erase.done":
            done = _("erase.done_booked")
    turn.out.replies.append(Reply(ctx.t(lang, done)))
    log.info("a client's data was erased at their request")


def has_data(ctx: Context, user_id: int, state: State | None) -> bool:
    """Whether anything at all is kept about the client: "nothing" is said only when true."""
    return (
        bool(state and state.answers)
        or ctx.store.latest_alert(user_id) is not None
        or holds_anything(ctx.store.export_client(user_id))
    )


def holds_anything(data: dict) -> bool:
    """Anything in an export besides the Telegram id: answers, bookings, consents, a place on
    the waiting list, records of staff who saw them, reminders, risk alerts."""
    return any(
        (
            (data["conversation"] or {}).get("answers"),
            *(data[key] for key in ("bookings", "consents", "waiting_list", "staff_accesses")),
            data["reminders"],
            data.get("crisis_alerts"),
        )
    )


def my_data(ctx: Context, user_id: int, lang: str) -> list[Reply]:
    data = ctx.store.export_client(user_id)
    about = {
        "purposes": ctx.t(lang, "mydata.purposes"),
        "recipients": ctx.t(lang, "mydata.recipients"),
        "retention": ctx.t(
            lang,
            "mydata.retention",
            abandoned_days=ctx.config.abandoned_intake_days,
            booking_days=ctx.config.booking_retention_days,
        ),
    }
    alerts = ctx.store.alerts_of(user_id)
    data["crisis_alerts"] = [
        {
            "noticed_at": a.raised_at.isoformat(timespec="seconds"),
            "kind": a.category,
            "are_you_safe_answer": a.safety,
            "taken_by": a.acknowledged_by,
        }
        for a in alerts
    ]
    if not holds_anything(data) and not alerts:
        return [Reply(ctx.t(lang, "mydata.nothing") + "\n\n" + about["retention"])]
    lines = [ctx.t(lang, "mydata.title")]
    in_progress = (data["conversation"] or {}).get("answers") or {}
    latest = data["bookings"][-1]["answers"] if data["bookings"] else {}
    answers = State(lang=lang, answers=in_progress or latest)
    if answers.answers:
        lines += ["", ctx.t(lang, "mydata.section_answers")]
        lines += [
            f"{ctx.t(lang, q.label)}: {screens.shown(ctx, answers, q, MYDATA_SNIPPET)}"
            for q in QUESTIONS
            if q.label and q.key in answers.answers
        ]
    tz = ctx.store.schedule.tz
    if data["bookings"]:
        lines += ["", ctx.t(lang, "mydata.section_bookings")]
        for booking in data["bookings"]:
            start = datetime.fromisoformat(booking["start"]).astimezone(tz)
            own = zone_of_phone(booking["answers"].get("phone"))
            when = ctx.t.record(start, lang, own)
            status_label = CLIENT_STATUS[booking["status"]]
            status = ctx.t(lang, status_label)
            lines.append(f"• {booking['reference']}: {when} ({status})")

    def stamp(text: str) -> str:
        return ctx.t.stamp(stored_moment(text, tz), lang)

    consents = [
        ctx.t(lang, "mydata.consent_line", date=stamp(c["given_at"]), version=c["notice_version"])
        for c in data["consents"]
    ]
    lines += _section(ctx, lang, _("mydata.section_consents"), consents)
    planned = [
        ctx.t(lang, "mydata.reminder_line", date=stamp(r["due_at"]), ref=r["booking"])
        for r in data["reminders"]
        if not r["sent_at"]
    ]
    lines += _section(ctx, lang, _("mydata.section_reminders"), planned)
    waiting = [
        ctx.t(lang, "mydata.waitlist_line", since=stamp(w["since"]),
              way=render.way_name(ctx, w["way"], lang))
        for w in data["waiting_list"]
    ]  # fmt: skip
    if waiting:
        lines += _section(ctx, lang, _("mydata.section_waitlist"), waiting)
    if alerts:
        lines += ["", ctx.t(lang, "mydata.section_alerts")]
        lines += [
            ctx.t(lang, "mydata.alert_line", date=ctx.t.stamp(a.raised_at.astimezone(tz), lang))
            for a in alerts
        ]
    seen = [
        ctx.t(lang, ACCESS_LINES.get(a["what"], ACCESS_LINES["details"]), who=a["staff_member"],
              date=stamp(a["at"]))
        for a in data["staff_accesses"]
    ]  # fmt: skip
    lines += _section(ctx, lang, _("mydata.section_access"), seen)
    lines += ["", about["purposes"], about["recipients"], about["retention"]]
    lines += ["", ctx.t(lang, "mydata.file_note")]
    buttons = rows(
        [Button(pack("fix", key), "✏️ " + ctx.t(lang, BY_KEY[key].label)) for key in CORRECTABLE],
        2,
    )
    buttons.append([Button(pack("erase", "ask"), ctx.t(lang, "button.erase"))])
    export = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **data, **about}
    document = json.dumps(export, ensure_ascii=False, indent=2).encode()
    return [
        Reply("\n".join(lines)[:4000], buttons),
        Reply(ctx.t(lang, "mydata.file_caption"), document=("my-data.json", document)),
    ]


def _section(ctx: Context, lang: str, title: str, items: list[str]) -> list[str]:
    """A /mydata section: its title, then its lines, or "none"."""
    return ["", ctx.t(lang, title), *(items or [ctx.t(lang, "mydata.none")])]


def stored_moment(text: str, zone: tzinfo) -> datetime:
    """A stored time in the practice's zone; one stored without a zone is UTC."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def staff_details(ctx: Context, *, ref: str, staff_user_id: int) -> tuple[str, list[str]]:
    """(what to answer on the button, the full intake in messages to send in private)."""
    staff = ctx.config.staff_lang
    role = roles.role_for(ctx, staff_user_id, "details")
    if role is None:
        return roles.refusal(ctx, "details"), []
    booking = ctx.store.booking(ref)
    if booking is None or not booking.answers:
        return ctx.t(staff, "staff.details_gone"), []
    if not may_read_details(ctx, booking, staff_user_id):
        return ctx.t(staff, "staff.details_not_yours"), []
    roles.audit(ctx, staff_user_id, role, "details", ref)
    state = State(lang=staff, answers=booking.answers)
    lines = [
        ctx.t(staff, "staff.details_title", ref=ref, when=ctx.t.when(booking.start, staff)),
        "",
    ]
    if booking.urgent:  # the risk category travels with Details, never in the group
        category = ctx.t(staff, CRISIS_LABELS[booking.urgent])
        lines[1:1] = ["", ctx.t(staff, "staff.details_risk", category=category)]
    lines += [
        f"{ctx.t(staff, q.label)}: {screens.shown(ctx, state, q, limit=None)}"
        for q in QUESTIONS
        if q.label and q.key != "time"
    ]
    return ctx.t(staff, "staff.details_sent"), split_message("\n".join(lines))


def may_read_details(ctx: Context, booking, staff_user_id: int) -> bool:
    """A client's own words are for their consultant and the intake coordinators alone."""
    if staff_user_id in ctx.config.staff_ids:
        return True
    consultant = ctx.store.consultant_by_telegram(staff_user_id)
    return consultant is not None and consultant.id == booking.consultant_id


def details_access(ctx: Context, *, ref: str, staff_user_id: int, staff_name: str) -> dict | None:
    """The record to keep (for the client's /mydata) once the details were delivered."""
    booking = ctx.store.booking(ref)
    if not booking or not booking.user_id:
        return None
    return {
        "client_user_id": booking.user_id,
        "staff_user_id": staff_user_id,
        "staff_name": staff_name,
        "booking_ref": ref,
        "what": "details",
    }


def agenda(
    ctx: Context, argument: str, *, staff_user_id: int, staff_name: str
) -> tuple[str, list[dict]]:
    """/agenda for the staff (consultants and STAFF_USER_IDS) alone; the access records to keep
    once it is delivered, one per client it names, as for Details."""
    role = roles.role_for(ctx, staff_user_id, "agenda")
    if role is None:
        return roles.refusal(ctx, "agenda"), []
    text, shown = render.agenda(ctx, argument)
    roles.audit(ctx, staff_user_id, role, "agenda")
    accesses = [
        {
            "client_user_id": booking.user_id,
            "staff_user_id": staff_user_id,
            "staff_name": staff_name,
            "booking_ref": booking.ref,
            "what": "agenda",
        }
        for booking in shown
        if booking.user_id
    ]
    return text, accesses
