"""The consultant who takes a booking is told in their private chat with the bot."""

from dialogs import render
from dialogs.callbacks import pack
from dialogs.messages import Button, Context, Reply
from storage import BookingView


def taken(ctx: Context, booking: BookingView) -> list[tuple[int, Reply, int | None]]:
    """The booking's consultant's private message: (their Telegram id, it, the client it
    shows, so that erasure finds it); none while the booking has no consultant."""
    consultant = ctx.store.consultant(booking.consultant_id)
    if consultant is None:
        return []
    staff = ctx.config.staff_lang
    text = ctx.t(
        staff,
        "consultant.booking_taken",
        when=ctx.t.when(booking.start, staff),
        way=render.way_name(ctx, booking.way, staff),
        name=booking.answers.get("name", ""),
        ref=booking.ref,
    )
    details = Button(pack("details", booking.ref), ctx.t(staff, "staff.details_button"))
    return [(consultant.telegram_user_id, Reply(text, [[details]]), booking.user_id)]
