"""The waiting list at work: a freed time offered to the first client who fits, booked with
one tap, passed or left; what the client and the staff see of the queue."""

import logging

from dialogs import intake, render, staff_actions
from dialogs.callbacks import pack, unpack_action
from dialogs.i18n import _
from dialogs.messages import Button, Context, Outcome, Reply, State, Turn
from dialogs.parsers import zone_of_phone
from storage.waitlist import Waiting

log = logging.getLogger(__name__)


def chase(ctx: Context) -> Outcome:
    """One round of the job: offers that lapsed move on, entries past the horizon end, and
    each free time that fits is offered; every client concerned is told."""
    out = Outcome()
    for lapsed in ctx.store.take_lapsed_offers():
        lang = lapsed.client_lang
        text = ctx.t(lang, "waitlist.offer_lapsed", when=_at(ctx, lapsed, lapsed.start))
        out.to_clients.append((lapsed.chat_id, Reply(text, [[leave_button(ctx, lang)]])))
    days = ctx.store.schedule.horizon_days
    for ended in ctx.store.drop_expired_waiting():
        text = ctx.t(ended.client_lang, "waitlist.expired", days=days)
        out.to_clients.append((ended.chat_id, Reply(text)))
    for offer in ctx.store.make_offers():
        log.info("a freed time offered from the waiting list (hold %s)", offer.offer_ref)
        out.to_clients.append((offer.chat_id, offer_reply(ctx, offer)))
    return out


def offer_reply(ctx: Context, offer: Waiting) -> Reply:
    lang, ref = offer.client_lang, offer.offer_ref
    text = ctx.t(
        lang,
        "waitlist.offer",
        when=_at(ctx, offer, offer.start),
        way=render.way_name(ctx, offer.way, lang),
        until=ctx.t.record(offer.until, lang, _zone(offer)),
    )
    return Reply(
        text,
        [
            [Button(pack("wl", "book", ref), ctx.t(lang, "waitlist.book"))],
            [Button(pack("wl", "pass", ref), ctx.t(lang, "waitlist.pass"))],
            [leave_button(ctx, lang)],
        ],
    )


def leave_button(ctx: Context, lang: str) -> Button:
    return Button(pack("wl", "leave"), ctx.t(lang, "waitlist.leave"))


def choice(ctx: Context, state: State | None, data: str, turn: Turn) -> State | None:
    """The client's tap on an offer (book it, let it go) or on "leave the waiting list"."""
    lang = state.lang if state else turn.hint
    _space, action, ref = unpack_action(data)
    out = turn.out
    if action == "leave":
        left = ctx.store.leave_waitlist(turn.user_id)
        said = _("waitlist.left") if left else _("waitlist.not_on")
        out.replies.append(Reply(ctx.t(lang, said)))
        return state
    if action == "pass" and ctx.store.pass_offer(user_id=turn.user_id, ref=ref):
        out.replies.append(Reply(ctx.t(lang, "waitlist.passed")))
        return state
    booked = ctx.store.book_offer(user_id=turn.user_id, ref=ref) if action == "book" else None
    if booked is None:  # lapsed, passed, or given to the next client meanwhile
        on_list = ctx.store.waiting_of(turn.user_id) is not None
        gone = _("waitlist.offer_gone") if on_list else _("waitlist.offer_gone_off")
        out.replies.append(Reply(ctx.t(lang, gone)))
        return state
    log.info("booking %s made from the waiting list", booked.ref)
    out.events.append("waitlist_booked")
    intake.tell_booked(ctx, ctx.store.booking(booked.ref), out)
    return State(
        lang=lang,
        step="done",
        booking_ref=booked.ref,
        consent_version=state.consent_version if state else None,
    )


def place_reply(ctx: Context, user_id: int, lang: str) -> Reply | None:
    """For /mybooking: the client's place on the list, with the button to leave it."""
    waiting = ctx.store.waiting_of(user_id)
    if waiting is None:
        return None
    text = ctx.t(
        lang,
        "waitlist.mine",
        since=ctx.t.stamp(waiting.since.astimezone(ctx.store.schedule.tz), lang),
        way=render.way_name(ctx, waiting.way, lang),
    )
    return Reply(text, [[leave_button(ctx, lang)]])


def staff_view(ctx: Context, *, staff_user_id: int, staff_name: str) -> tuple[str, list[dict]]:
    """/waitlist for the staff alone: position, since when, language, way and name, nothing
    else; the access records to keep once it is delivered, one per client it names."""
    staff = ctx.config.staff_lang
    if not staff_actions.is_staff(ctx, staff_user_id):
        return ctx.t(staff, "waitlist.staff_only"), []
    queue = ctx.store.waiting()
    if not queue:
        return ctx.t(staff, "waitlist.staff_empty"), []
    lines = [ctx.t(staff, "waitlist.staff_title", count=len(queue))]
    for position, waiting in enumerate(queue, 1):
        line = ctx.t(
            staff,
            "waitlist.staff_line",
            position=position,
            name=waiting.answers.get("name", ctx.t(staff, "crisis.not_given")),
            since=ctx.t.when(waiting.since.astimezone(ctx.store.schedule.tz), staff),
            consult_lang=ctx.t.language_name(waiting.consult_lang, staff, title=False),
            way=render.way_name(ctx, waiting.way, staff),
        )
        if waiting.offer_ref and waiting.start:
            line += " " + ctx.t(
                staff, "waitlist.staff_offered", when=ctx.t.when(waiting.start, staff)
            )
        lines.append(line)
    accesses = [
        {
            "client_user_id": waiting.user_id,
            "staff_user_id": staff_user_id,
            "staff_name": staff_name,
            "booking_ref": "",
            "what": "waitlist",
        }
        for waiting in queue
    ]
    return "\n".join(lines), accesses


def _at(ctx: Context, waiting: Waiting, moment) -> str:
    """A time in a sentence, in the client's own zone."""
    return ctx.t.at(moment, waiting.client_lang, _zone(waiting))


def _zone(waiting: Waiting):
    """The client's own zone where their phone number tells it."""
    return zone_of_phone(waiting.answers.get("phone"))
