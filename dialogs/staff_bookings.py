"""The staff change a booking from their group: Cancel (with a reason), Move (the picker in a
private chat, so the group is not flooded), and after its time Held or No-show.

Each change edits the booking's notice to where it now stands and posts a short reply to it in
the group: Telegram notifies of a new message, never of an edit.
"""

import logging
from dataclasses import dataclass, field
from datetime import date

from dialogs import render, rights, roles, screens
from dialogs.callbacks import pack, unpack_action
from dialogs.i18n import _
from dialogs.messages import (
    Button,
    Context,
    Outcome,
    Reply,
    StaffEdit,
    StaffNote,
    rows,
)
from dialogs.render import CANCEL_REASONS
from storage import BookingView, SlotTaken
from storage.models import STANDING

log = logging.getLogger(__name__)

DAYS_SHOWN = 12  # free days offered to the staff member moving a booking


@dataclass
class Tap:
    """What a staff button does: the answer to the tap, and what it sends. `out.replies` go
    to the tapper's private chat."""

    answer: str
    out: Outcome = field(default_factory=Outcome)
    alert: bool = False  # shown until closed: a refusal, or a question to answer


def may_manage(ctx: Context, booking: BookingView, staff_user_id: int) -> bool:
    """Who may change a booking: its consultant and the intake coordinators, as for Details.
    The one place that says so."""
    return rights.may_read_details(ctx, booking, staff_user_id)


def tap(ctx: Context, *, data: str, staff_user_id: int, staff_name: str) -> Tap:
    """A `bk:` button, in the group or in the tapper's private chat."""
    staff = ctx.config.staff_lang
    _space, action, rest = unpack_action(data)
    ref, _sep, argument = rest.partition(":")
    booking = ctx.store.booking(ref)
    if booking is None or action not in ACTIONS:
        return Tap(ctx.t(staff, "error.stale_button"), alert=True)
    role = roles.role_for(ctx, staff_user_id, "manage")
    if role is None or not may_manage(ctx, booking, staff_user_id):
        return Tap(roles.refusal(ctx, "manage"), alert=True)
    consultant = ctx.store.consultant_by_telegram(staff_user_id)
    who = consultant.name if consultant else staff_name  # the staff read it, never a client
    done = ACTIONS[action](ctx, booking, argument, who)
    if action in AUDITED and done.out.staff:  # the change was made: its reply is posted
        roles.audit(ctx, staff_user_id, role, AUDITED[action], ref)
    return done


def _coming(ctx: Context, booking: BookingView) -> bool:
    return booking.status in STANDING and booking.start > ctx.store.clock()


def _stale(ctx: Context, booking: BookingView) -> Tap:
    """The booking changed meanwhile (or its time came): say how it stands, show it so."""
    staff = ctx.config.staff_lang
    out = Outcome(staff_edits=render.staff_edit(ctx, booking))
    status = render.status_line(ctx, booking)
    return Tap(ctx.t(staff, "staff.already", status=status), out, alert=True)


def _notice(ctx: Context, booking: BookingView, msgid: str, **params: str) -> StaffNote:
    """The reply to the booking's notice: its reference and time, what happened, who did."""
    staff = ctx.config.staff_lang
    when = ctx.t.when(booking.start, staff)
    return StaffNote(
        ctx.t(staff, msgid, ref=booking.ref, when=when, **params), reply_to_booking=booking.ref
    )


def client_changed(ctx: Context, booking: BookingView, moved: bool) -> list[StaffNote]:
    """The client cancelled or moved their booking: a reply that notifies the group."""
    msgid = _("staff.reply.client_moved") if moved else _("staff.reply.client_cancelled")
    return [_notice(ctx, booking, msgid)]


def ask_reason(ctx: Context, booking: BookingView, _argument: str, _who: str) -> Tap:
    """Cancel: the notice's buttons become the reasons (and Back)."""
    if not _coming(ctx, booking):
        return _stale(ctx, booking)
    edit = StaffEdit(
        booking.ref, render.staff_text(ctx, booking), render.cancel_reasons(ctx, booking)
    )
    return Tap(ctx.t(ctx.config.staff_lang, "staff.cancel_why"), Outcome(staff_edits=[edit]))


def back(ctx: Context, booking: BookingView, _argument: str, _who: str) -> Tap:
    return Tap("", Outcome(staff_edits=render.staff_edit(ctx, booking)))


def cancel(ctx: Context, booking: BookingView, reason: str, who: str) -> Tap:
    """A reason chosen: the booking is cancelled, the client told kindly, with another time."""
    if reason not in CANCEL_REASONS:
        return Tap(ctx.t(ctx.config.staff_lang, "error.stale_button"), alert=True)
    cancelled = ctx.store.staff_cancel(ref=booking.ref, staff_name=who, reason=reason)
    if cancelled is None:
        return _stale(ctx, ctx.store.booking(booking.ref))
    log.info("booking %s cancelled by staff (%s)", booking.ref, reason)
    staff = ctx.config.staff_lang
    label, client_text = CANCEL_REASONS[reason]
    out = Outcome(staff_edits=render.staff_edit(ctx, cancelled))
    out.staff.append(
        _notice(ctx, cancelled, _("staff.reply.cancelled"), who=who, reason=ctx.t(staff, label))
    )
    if cancelled.user_id:  # not an erased client's
        lang = cancelled.client_lang
        when = ctx.t.at(cancelled.start, lang, render.booking_zone(cancelled))
        message = Reply(
            ctx.t(lang, client_text, when=when),
            [[render.move_button(ctx, cancelled, lang)]],
            document=render.calendar_file(ctx, cancelled),  # takes it out of their calendar
        )
        out.to_clients.append((cancelled.chat_id, message))
    return Tap(ctx.t(staff, "staff.done"), out)


def pick_day(ctx: Context, booking: BookingView, _argument: str, _who: str) -> Tap:
    """Move: the free days, in the tapper's private chat."""
    if not _coming(ctx, booking):
        return _stale(ctx, booking)
    staff = ctx.config.staff_lang
    days = ctx.store.free_days(booking.way, booking.consult_lang)[:DAYS_SHOWN]
    when = ctx.t.when(booking.start, staff)
    if not days:
        return Tap(ctx.t(staff, "staff.move_none", ref=booking.ref, when=when), alert=True)
    buttons = [
        Button(pack("bk", "day", f"{booking.ref}:{day.isoformat()}"), ctx.t.day(day, staff))
        for day in days
    ]
    reply = Reply(ctx.t(staff, "staff.move_day", ref=booking.ref, when=when), rows(buttons, 3))
    return Tap(ctx.t(staff, "staff.move_sent"), Outcome(replies=[reply]))


def pick_time(ctx: Context, booking: BookingView, argument: str, who: str) -> Tap:
    staff = ctx.config.staff_lang
    try:
        day = date.fromisoformat(argument)
    except ValueError:
        return Tap(ctx.t(staff, "error.stale_button"), alert=True)
    if not _coming(ctx, booking):
        return _stale(ctx, booking)
    slots = ctx.store.free_slots_on(day, booking.way, booking.consult_lang)
    if not slots:  # taken meanwhile: the days again
        return pick_day(ctx, booking, "", who)
    buttons = [
        Button(pack("bk", "at", f"{booking.ref}:{screens.slot_id(slot)}"), ctx.t.clock(slot, staff))
        for slot in slots
    ]
    other = Button(pack("bk", "move", booking.ref), ctx.t(staff, "button.other_day"))
    text = ctx.t(staff, "staff.move_time", ref=booking.ref, day=ctx.t.on_day(day, staff))
    return Tap("", Outcome(replies=[Reply(text, [*rows(buttons, 4), [other]])]))


def move(ctx: Context, booking: BookingView, argument: str, who: str) -> Tap:
    """A time chosen: the booking takes it in one statement; the client gets the new time and
    the calendar file (its SEQUENCE raised), the group a reply."""
    staff = ctx.config.staff_lang
    try:
        start = screens.parse_slot(argument, ctx.store)
    except ValueError:
        return Tap(ctx.t(staff, "error.stale_button"), alert=True)
    if not _coming(ctx, booking):
        return _stale(ctx, booking)
    try:
        moved = ctx.store.reschedule(ref=booking.ref, start=start)
    except SlotTaken:
        again = pick_day(ctx, booking, "", who)
        again.out.replies[:0] = [Reply(ctx.t(staff, "error.slot_gone"))]
        return again
    log.info("booking %s moved by staff", booking.ref)
    when = ctx.t.when(moved.start, staff)
    out = Outcome(staff_edits=render.staff_edit(ctx, moved))
    out.staff.append(_notice(ctx, booking, _("staff.reply.moved"), who=who, new=when))
    out.replies.append(Reply(ctx.t(staff, "staff.moved", ref=moved.ref, when=when)))
    if moved.user_id:
        lang = moved.client_lang
        at = ctx.t.at(moved.start, lang, render.booking_zone(moved))
        message = Reply(
            ctx.t(lang, "client.staff_moved", when=at, ref=moved.ref),
            [[render.move_button(ctx, moved, lang)]],
            document=render.calendar_file(ctx, moved),
        )
        out.to_clients.append((moved.chat_id, message))
    return Tap(ctx.t(staff, "staff.done"), out)


def mark(held: bool):
    def marked(ctx: Context, booking: BookingView, _argument: str, who: str) -> Tap:
        """After its time: the consultation took place, or the client did not come."""
        done = ctx.store.mark_attendance(ref=booking.ref, held=held, staff_name=who)
        if done is None:
            return _stale(ctx, ctx.store.booking(booking.ref))
        log.info("booking %s marked %s", booking.ref, done.status)
        out = Outcome(staff_edits=render.staff_edit(ctx, done))
        msgid = _("staff.reply.held") if held else _("staff.reply.no_show")
        out.staff.append(_notice(ctx, done, msgid, who=who))
        return Tap(ctx.t(ctx.config.staff_lang, "staff.marked"), out)

    return marked


# What each `bk:ACTION:REF[:ARGUMENT]` button does.
ACTIONS = {
    "cancel": ask_reason,
    "back": back,
    "why": cancel,
    "move": pick_day,
    "day": pick_time,
    "at": move,
    "held": mark(True),
    "noshow": mark(False),
}
# The buttons that change a booking, as the audit log names them.
AUDITED = {"why": "cancel", "at": "move", "held": "held", "noshow": "no_show"}
