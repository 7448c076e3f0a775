"""Picking a time, for a new booking and for moving one: held at once, or taken over."""

import logging
from datetime import datetime

from dialogs import answers, render, screens, staff_bookings
from dialogs.messages import (
    Context,
    Outcome,
    Reply,
    State,
    Turn,
)
from dialogs.questions import (
    Question,
)
from storage import SlotTaken

log = logging.getLogger(__name__)


def take(ctx: Context, state: State, question: Question, value: str, turn: Turn) -> State:
    """A picked time is held at once, or, when moving a booking, taken over."""
    start = screens.parse_slot(value, ctx.store)
    if state.rescheduling:
        return move_to(ctx, state, start, turn)
    way, lang = screens.wants(ctx, state)
    try:
        state.hold_ref = ctx.store.hold(
            start=start,
            user_id=turn.user_id,
            chat_id=turn.chat_id,
            way=way,
            lang=lang,
            client_lang=state.lang,
        )
    except SlotTaken:
        return lost(ctx, state, start, turn.out)
    state.answers["time"] = value
    answers.advance(ctx, state, question, turn.out)
    return state


def lost(ctx: Context, state: State, start: datetime, out: Outcome) -> State:
    """Someone else took the slot: say so kindly and offer the nearest free ones."""
    way, lang = screens.wants(ctx, state)
    state.answers.pop("time", None)
    state.hold_ref = None
    state.step, state.editing = "time", True
    state.offer = [screens.slot_id(slot) for slot in ctx.store.nearest_free(start, way, lang)]
    out.replies.append(Reply(ctx.t(state.lang, "book.taken")))
    screens.ask(ctx, state, out)
    return state


def rematch(ctx: Context, state: State, turn: Turn) -> bool:
    """The way or the language was changed from the summary: the held time goes with a
    consultant who fits the new choice. False if none can take it then: the hold is let go,
    and the client, told why, picks another time."""
    way, lang = screens.wants(ctx, state)
    if ctx.store.rehold(ref=state.hold_ref, user_id=turn.user_id, way=way, lang=lang):
        return True
    start = screens.parse_slot(state.answers.pop("time"), ctx.store)
    state.hold_ref = None
    state.step, state.editing = "time", True
    state.offer = [screens.slot_id(slot) for slot in ctx.store.nearest_free(start, way, lang)]
    when = ctx.t.at(start, state.lang, screens.own_zone(ctx, state))
    turn.out.replies.append(Reply(ctx.t(state.lang, "book.rematch", when=when)))
    screens.ask(ctx, state, turn.out)
    return False


def move_to(ctx: Context, state: State, start: datetime, turn: Turn) -> State:
    """The last step of a move: the booking takes the new slot in one statement."""
    lang = state.lang
    try:
        moved = ctx.store.reschedule(ref=state.rescheduling, user_id=turn.user_id, start=start)
    except SlotTaken:
        turn.out.replies.append(Reply(ctx.t(lang, "error.slot_gone")))
        state.step = "day"
        screens.ask(ctx, state, turn.out)
        return state
    log.info("booking %s moved by the client", moved.ref)
    state.step, state.rescheduling, state.resume = state.resume or "done", None, None
    when = ctx.t.at(moved.start, lang, render.booking_zone(moved))
    turn.out.replies.append(
        Reply(
            ctx.t(lang, "mybooking.moved", when=when, ref=moved.ref),
            document=render.calendar_file(ctx, moved),
        )
    )
    turn.out.staff_edits += render.staff_edit(ctx, moved)
    turn.out.staff += staff_bookings.client_changed(ctx, moved, moved=True)
    if state.step != "done":
        screens.ask(ctx, state, turn.out)
    return state
