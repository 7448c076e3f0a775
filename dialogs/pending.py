"""Requests nobody in the staff group answered: one reminder to the staff, and, once the time
has come unconfirmed, the request closed and the client told. And consultations whose time is
over: the group asked, once, to mark them held or not."""

import logging

from dialogs import render
from dialogs.messages import Context, Outcome, Reply, StaffNote

log = logging.getLogger(__name__)


def chase(ctx: Context) -> Outcome:
    """What the requests still pending cause now; each reminder and closing happens once."""
    staff = ctx.config.staff_lang
    out = Outcome()
    for booking in ctx.store.take_unanswered_requests():
        # The reference and the time only: the notice it answers shows the rest.
        text = ctx.t(
            staff, "staff.still_pending", ref=booking.ref, when=ctx.t.when(booking.start, staff)
        )
        out.staff.append(StaffNote(text, reply_to=booking.staff_message_id))
    for booking in ctx.store.take_ended_consultations():
        # Its notice now shows Held and No-show; a reply says so, which notifies the group.
        out.staff_edits += render.staff_edit(ctx, booking)
        text = ctx.t(
            staff, "staff.ask_attendance", ref=booking.ref, when=ctx.t.when(booking.start, staff)
        )
        out.staff.append(StaffNote(text, reply_to_booking=booking.ref))
    for booking in ctx.store.close_lapsed_requests():
        log.info("booking %s expired unconfirmed", booking.ref)
        out.staff_edits += render.staff_edit(ctx, booking)
        if booking.user_id:  # not an erased client's
            lang = booking.client_lang
            when = ctx.t.at(booking.start, lang, render.booking_zone(booking))
            message = Reply(
                ctx.t(lang, "client.expired", when=when), [[render.move_button(ctx, booking, lang)]]
            )
            out.to_clients.append((booking.chat_id, message))
    return out
