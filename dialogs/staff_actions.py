"""What the staff do in their group: Confirm and Decline a booking, and who may."""

import logging

from dialogs import consultant_notice, render, roles
from dialogs.i18n import _
from dialogs.messages import (
    Context,
    Outcome,
    Reply,
)
from storage import BookingStatus

log = logging.getLogger(__name__)

# What a consultant who does not fit a booking is told on Confirm (storage `_misfit`'s reasons).
MISFIT = {
    "needs": _("staff.unfit_needs"),
    "hours": _("staff.unfit_hours"),
    "away": _("staff.unfit_away"),
    "busy": _("staff.busy"),
}


def is_staff(ctx: Context, telegram_user_id: int) -> bool:
    """Consultants and the intake coordinators (STAFF_USER_IDS): see dialogs/roles.py."""
    return any(role in roles.STAFF for role in roles.roles_of(ctx, telegram_user_id))


def staff_action(
    ctx: Context, *, ref: str, action: str, staff_user_id: int, staff_name: str
) -> tuple[str, Outcome]:
    """Confirm or Decline tapped in the staff group: (answer to the tap, what to send)."""
    staff = ctx.config.staff_lang
    out = Outcome()
    action = "confirm" if action == "confirm" else "decline"
    role = roles.role_for(ctx, staff_user_id, action)
    if role is None:
        return roles.refusal(ctx, action), out
    consultant = ctx.store.consultant_by_telegram(staff_user_id)
    name = consultant.name if consultant else staff_name
    result, booking = ctx.store.decide(
        ref=ref,
        action=action,
        staff_name=name,
        consultant_id=consultant.id if consultant else None,
    )
    if booking is None:
        return ctx.t(staff, "staff.details_gone"), out
    if result in MISFIT:  # the booking stays pending, for a colleague who fits it
        way = render.way_name(ctx, booking.way, staff)
        language = ctx.t.language_name(booking.consult_lang, staff, title=False)
        return ctx.t(staff, MISFIT[result], way=way, language=language), out
    if result == "already":
        return ctx.t(staff, "staff.already", status=render.status_line(ctx, booking)), out
    log.info("booking %s %s by staff", ref, booking.status)
    roles.audit(ctx, staff_user_id, role, action, ref)
    if booking.status == BookingStatus.CONFIRMED:
        out.private += consultant_notice.taken(ctx, booking)
    out.staff_edits += render.staff_edit(ctx, booking)
    lang = booking.client_lang
    when = ctx.t.at(booking.start, lang, render.booking_zone(booking))
    if booking.status == BookingStatus.CONFIRMED:
        text = confirmed_text(ctx, booking, when)
        link = render.video_link(ctx, booking)
        if link:
            text += "\n\n" + ctx.t(lang, "client.video_link", link=link)
        # The calendar file again, now confirmed (its SEQUENCE raised), with the link if any.
        message = Reply(text, document=render.calendar_file(ctx, booking))
    else:
        message = Reply(
            ctx.t(lang, "client.declined", when=when), [[render.move_button(ctx, booking, lang)]]
        )
    if booking.user_id:
        out.to_clients.append((booking.chat_id, message))
    return ctx.t(staff, "staff.done"), out


def confirmed_text(ctx: Context, booking, when: str) -> str:
    """The client is told their consultant's display name, never a Telegram name; a booking
    on the team calendar (or whose consultant left), the team."""
    lang = booking.client_lang
    consultant = ctx.store.consultant(booking.consultant_id)
    if consultant is not None:
        return ctx.t(lang, "client.confirmed", when=when, consultant=consultant.name)
    return ctx.t(lang, "client.confirmed_team", when=when)
