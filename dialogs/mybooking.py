"""/mybooking: a client's upcoming bookings, to move or cancel."""

import logging

from dialogs import render, screens, staff_bookings, waitlist
from dialogs.callbacks import pack, unpack_action
from dialogs.messages import (
    Button,
    Context,
    Reply,
    State,
    Turn,
)
from dialogs.render import CLIENT_STATUS
from storage import MOVABLE

log = logging.getLogger(__name__)


def show(ctx: Context, state: State | None, turn: Turn) -> State | None:
    lang = state.lang if state else turn.hint
    upcoming = ctx.store.bookings_of(turn.user_id)
    waiting = waitlist.place_reply(ctx, turn.user_id, lang)
    if not upcoming:
        turn.out.replies += [waiting] if waiting else [Reply(ctx.t(lang, "mybooking.none"))]
        return state
    for booking in upcoming:
        own = render.booking_zone(booking)
        text = ctx.t(
            lang,
            "mybooking.line",
            ref=booking.ref,
            when=ctx.t.record(booking.start, lang, own),
            way=render.way_name(ctx, booking.way, lang),
            status=ctx.t(lang, CLIENT_STATUS[booking.status]),
        )
        turn.out.replies.append(
            Reply(
                text,
                [
                    [
                        render.move_button(ctx, booking, lang),
                        Button(
                            pack("mybooking", "cancel", booking.ref),
                            ctx.t(lang, "mybooking.cancel"),
                        ),
                    ]
                ],
            )
        )
    return state


def keep(ctx: Context, state: State, turn: Turn) -> State:
    """A move given up: the booking keeps its time, and the client is where they were."""
    state.step, state.rescheduling, state.resume = state.resume or "done", None, None
    state.offer = []
    turn.out.replies.append(Reply(ctx.t(state.lang, "mybooking.kept")))
    if state.step != "done":
        screens.ask(ctx, state, turn.out)
    return state


def choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    lang = state.lang if state else turn.hint
    _space, action, ref = unpack_action(data)
    booking = ctx.store.booking(ref)
    if booking is None or booking.user_id != turn.user_id:
        turn.out.replies.append(Reply(ctx.t(lang, "error.stale_button")))
        return state
    if action == "cancel":
        when = ctx.t.at(booking.start, lang, render.booking_zone(booking))
        turn.out.replies.append(
            Reply(
                ctx.t(lang, "mybooking.cancel_confirm", when=when),
                [
                    [
                        Button(
                            pack("mybooking", "cancelyes", ref), ctx.t(lang, "mybooking.cancel_yes")
                        ),
                        Button(pack("mybooking", "keep", ref), ctx.t(lang, "mybooking.keep")),
                    ]
                ],
            )
        )
    elif action == "cancelyes":
        cancelled = ctx.store.cancel(ref=ref, user_id=turn.user_id)
        if cancelled is None:
            turn.out.replies.append(Reply(ctx.t(lang, "error.stale_button")))
        else:
            log.info("booking %s cancelled by the client", ref)
            # with the file that takes the consultation out of the client's calendar
            calendar = render.calendar_file(ctx, cancelled)
            turn.out.replies.append(Reply(ctx.t(lang, "mybooking.cancelled"), document=calendar))
            turn.out.staff_edits += render.staff_edit(ctx, cancelled)
            turn.out.staff += staff_bookings.client_changed(ctx, cancelled, moved=False)
    elif action == "keep" and state is not None and state.rescheduling == ref:
        return keep(ctx, state, turn)
    elif action == "keep":
        turn.out.replies.append(Reply(ctx.t(lang, "mybooking.kept")))
    elif action == "move" and booking.status in MOVABLE:
        state = state or State(lang=lang, step="done")
        state.rescheduling, state.resume, state.week = ref, state.step, 0
        state.step = "day"
        screens.ask(ctx, state, turn.out)
    else:
        turn.out.replies.append(Reply(ctx.t(lang, "error.stale_button")))
    return state
