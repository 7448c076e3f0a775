"""What the staff do in their group: Confirm and Decline a booking, and who may."""

import logging

from dialogs import consultant_notice, render, roles
from dialogs.messages import (
    Context,
    Outcome,
    Reply,
)
from dialogs.render import STATUS_LINES
from storage import BookingStatus

log = logging.getLogger(__name__)


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
    if result == "busy":
        return ctx.t(staff, "staff.busy"), out
    if result == "already":
        status = ctx.t(staff, STATUS_LINES[booking.status], who=booking.decided_by or "")
        return ctx.t(staff, "staff.already", status=status), out
    log.info("booking %s %s by staff", ref, booking.status)
    roles.audit(ctx, staff_user_id, role, action, ref)
    if booking.status == BookingStatus.CONFIRMED:
        out.private += consultant_notice.taken(ctx, booking)
    out.staff_edits += render.staff_edit(ctx, booking)
    lang = booking.client_lang
    when = ctx.t.at(booking.start, lang, render.booking_zone(booking))
    if booking.status == BookingStatus.CONFIRMED:
        message = Reply(ctx.t(lang, "client.confirmed", when=when, consultant=name))
    else:
        message = Reply(
            ctx.t(lang, "client.declined", when=when), [[render.move_button(ctx, booking, lang)]]
        )
    if booking.user_id:
        out.to_clients.append((booking.chat_id, message))
    return ctx.t(staff, "staff.done"), out
