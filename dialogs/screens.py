"""What the client sees of a question: its text, buttons, the summary, the day pages."""

from datetime import date, datetime, tzinfo

from dialogs import render
from dialogs.callbacks import pack
from dialogs.i18n import LANGUAGES
from dialogs.messages import (
    Button,
    Context,
    Outcome,
    Reply,
    State,
    rows,
)
from dialogs.parsers import zone_of_phone
from dialogs.questions import (
    BY_KEY,
    QUESTIONS,
    WAY_LABELS,
    Question,
    previous_key,
)
from storage import HOLD_MINUTES, Store

SUMMARY_SNIPPET = 300  # long free-text answers are shortened in the summary
# Day and time are one question to the client: only the day is counted.
NUMBERED = [question.key for question in QUESTIONS if question.key != "time"]


def wants(ctx: Context, state: State) -> tuple[str | None, str | None]:
    """The way and language the slots must fit: the intake's, or the moved booking's."""
    if state.rescheduling:
        booking = ctx.store.booking(state.rescheduling)
        if booking:
            return booking.way, booking.consult_lang
    return state.answers.get("way"), state.answers.get("consult_lang")


def own_zone(ctx: Context, state: State) -> tzinfo | None:
    """The client's own zone, from the phone number of the intake or of the moved booking."""
    if "phone" not in state.answers and state.rescheduling:
        booking = ctx.store.booking(state.rescheduling)
        return render.booking_zone(booking) if booking else None
    return zone_of_phone(state.answers.get("phone"))


def ask(ctx: Context, state: State, out: Outcome, progress: bool = True) -> None:
    lang = state.lang
    if state.correcting:
        out.replies.append(correction_question(ctx, state))
    elif state.step == "language":
        out.replies.append(language_question(ctx, lang))
    elif state.step == "consent":
        out.replies.append(
            Reply(
                consent_text(ctx, lang),
                [
                    [Button(pack("consent", "yes"), ctx.t(lang, "consent.agree"))],
                    [Button(pack("consent", "full"), ctx.t(lang, "consent.read_full"))],
                    [Button(pack("consent", "no"), ctx.t(lang, "consent.no"))],
                ],
            )
        )
    elif state.step == "summary":
        out.replies.append(summary(ctx, state))
    elif state.step in BY_KEY:
        if state.step == "time" and not offered(ctx, state, BY_KEY["time"]):
            # Others took the day's last times (or the times offered) meanwhile: not
            # "nothing free", but another day.
            state.step, state.offer = "day", []
            out.replies.append(Reply(ctx.t(lang, "error.slot_gone")))
        out.replies.append(question_reply(ctx, state, BY_KEY[state.step], progress))


def consent_text(ctx: Context, lang: str) -> str:
    return ctx.t(lang, "ask.consent", practice=ctx.config.practice_name)


def privacy_notice(ctx: Context, lang: str) -> str:
    return ctx.t.privacy_notice(
        lang,
        abandoned_days=ctx.config.abandoned_intake_days,
        booking_days=ctx.config.booking_retention_days,
    )


def yes_no(
    ctx: Context, lang: str, question: str, space: str, yes: str, no: str, **params: object
) -> Reply:
    return Reply(
        ctx.t(lang, question, **params),
        [
            [
                Button(pack(space, "yes"), ctx.t(lang, yes)),
                Button(pack(space, "no"), ctx.t(lang, no)),
            ]
        ],
    )


def language_question(ctx: Context, lang: str, greeting: bool = False) -> Reply:
    text = (
        ctx.t(lang, "start.greeting", practice=ctx.config.practice_name) + "\n\n"
        if greeting
        else ""
    )
    return Reply(
        text + ctx.t(lang, "ask.language"),
        [
            [
                Button(
                    f"lang:{code}",
                    ("✓ " if code == lang else "") + ctx.t.language_name(code, code),
                )
                for code in LANGUAGES
            ]
        ],
    )


def question_reply(ctx: Context, state: State, question: Question, progress: bool) -> Reply:
    lang = state.lang
    options = offered(ctx, state, question)
    params: dict[str, object] = {}
    if question.key == "time" and "day" in state.answers and not state.offer:
        params["day"] = ctx.t.on_day(date.fromisoformat(state.answers["day"]), lang)
    text = ctx.t(lang, question.prompt, **params)
    if question.key == "time" and state.offer:
        text = ctx.t(lang, "ask.time_offer")
    if question.options == "times" and options:
        first = parse_slot(options[0][0], ctx.store)
        text += "\n" + ctx.t.times_note(first, lang, own_zone(ctx, state))
    if question.options in ("days", "times") and not options:
        nothing = ctx.t(lang, "book.nothing_free", contact=ctx.config.practice_contact)
        if state.rescheduling:
            return Reply(nothing, [way_back(ctx, state, question)])
        return Reply(nothing, [[Button(pack("waitlist", "join"), ctx.t(lang, "waitlist.join"))]])
    paging: list[Button] = []
    if question.options == "days":
        options, paging = week_page(ctx, state, options)
    if progress and question.key in NUMBERED and not state.editing and not state.rescheduling:
        number = NUMBERED.index(question.key) + 1
        text = ctx.t(lang, "fmt.progress", n=number, total=len(NUMBERED)) + "\n" + text
    buttons = rows([Button(pack(question.key, i), label) for i, label in options], question.columns)
    if paging:
        buttons.append(paging)
    if question.key == "time":
        buttons.append([Button(pack("time", "back"), ctx.t(lang, "button.other_day"))])
    if question.optional:
        buttons.append([Button(pack("skip", question.key), ctx.t(lang, "button.skip"))])
    if offers_back(ctx, state, question):
        buttons.append([Button(pack("back", question.key), ctx.t(lang, "button.back"))])
    elif way_back(ctx, state, question):
        buttons.append(way_back(ctx, state, question))
    if not question.accepts_contact:
        return Reply(text, buttons)
    return Reply(text, buttons, *share_phone(ctx, lang))


def share_phone(ctx: Context, lang: str) -> tuple[str, str]:
    """The "share my phone number" button, and the sentence that points to it."""
    button = ctx.t(lang, "button.share_phone")
    return button, ctx.t(lang, "hint.share_phone", button=button)


def week_page(
    ctx: Context, state: State, days: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[Button]]:
    """The free days of one week at a time, with buttons to the weeks around it."""
    weeks = sorted({date.fromisoformat(day).isocalendar()[:2] for day, _label in days})
    state.week = max(0, min(state.week, len(weeks) - 1))
    shown = [d for d in days if date.fromisoformat(d[0]).isocalendar()[:2] == weeks[state.week]]
    paging = []
    if state.week > 0:
        paging.append(Button(pack("week", state.week - 1), ctx.t(state.lang, "button.prev_week")))
    if state.week < len(weeks) - 1:
        paging.append(Button(pack("week", state.week + 1), ctx.t(state.lang, "button.next_week")))
    return shown, paging


def offers_back(ctx: Context, state: State, question: Question) -> bool:
    # From the summary an answer is changed in place; "Another day" is the time's Back.
    return (
        not state.editing
        and not state.rescheduling
        and not state.correcting
        and question.key != "time"
        and previous_key(question.key) is not None
    )


def way_back(ctx: Context, state: State, question: Question) -> list[Button]:
    """Out of an Edit from the summary, or a move, leaving things as they were."""
    if state.rescheduling and question.key in ("day", "time"):
        keep = ctx.t(state.lang, "button.keep_time")
        return [Button(pack("mybooking", "keep", state.rescheduling), keep)]
    kept = "time" if question.key in ("day", "time") else question.key  # a lost time: none
    if state.editing and (question.optional or kept in state.answers):
        return [Button(pack("unedit", question.key), ctx.t(state.lang, "button.keep_answer"))]
    return []


def offered(ctx: Context, state: State, question: Question) -> list[tuple[str, str]]:
    """(id, label) of each button a question offers right now."""
    lang = state.lang
    if question.choices:
        return [(c.id, ctx.t(lang, c.label)) for c in question.choices]
    if question.options == "ways":
        ways = _served(ctx, ctx.config.ways, lambda way, c: way in c.ways)
        return [(way, ctx.t(lang, WAY_LABELS[way])) for way in ways]
    if question.options == "consult_langs":
        chosen = state.answers.get("way")
        langs = _served(
            ctx,
            ctx.config.consult_langs,
            lambda code, c: code in c.languages and (chosen is None or chosen in c.ways),
        )
        return [(code, ctx.t.language_name(code, lang)) for code in langs]
    way, consult_lang = wants(ctx, state)
    if question.options == "days":
        return [
            (day.isoformat(), ctx.t.day(day, lang))
            for day in ctx.store.free_days(way, consult_lang)
        ]
    if question.options == "times":
        if state.offer:
            free = set(ctx.store.free_slots(way, consult_lang))
            slots = [s for s in (parse_slot(i, ctx.store) for i in state.offer) if s in free]
            return [
                (slot_id(s), f"{ctx.t.day(s.date(), lang)} {ctx.t.clock(s, lang)}") for s in slots
            ]
        day = date.fromisoformat(state.answers.get("day", "1970-01-01"))
        return [
            (slot_id(s), ctx.t.clock(s, lang))
            for s in ctx.store.free_slots_on(day, way, consult_lang)
        ]
    return []


def serves_language(ctx: Context, state: State) -> bool:
    """Whether the language chosen is still offered with the way chosen."""
    offered_langs = offered(ctx, state, BY_KEY["consult_lang"])
    return state.answers.get("consult_lang") in {code for code, _label in offered_langs}


def _served(ctx: Context, options: tuple[str, ...], serves) -> list[str]:
    """The options some active consultant serves (all of them with the team calendar): a way
    or a language nobody offers would lead the client to "nothing free" after ten questions.
    If none is served, all are offered, and the days show the waiting list."""
    consultants = ctx.store.consultants()
    served = [o for o in options if not consultants or any(serves(o, c) for c in consultants)]
    return served or list(options)


def summary(ctx: Context, state: State) -> Reply:
    lang = state.lang
    lines = [ctx.t(lang, "summary.title"), ""]
    edits = []
    for question in QUESTIONS:
        if question.label is None:
            continue
        lines.append(f"{ctx.t(lang, question.label)}: {shown(ctx, state, question)}")
        edits.append(Button(pack("edit", question.key), "✏️ " + ctx.t(lang, question.label)))
    lines += ["", ctx.t(lang, "summary.hint", minutes=HOLD_MINUTES)]
    buttons = rows(edits, 2)
    buttons.append([Button(pack("book", "confirm"), ctx.t(lang, "button.confirm"))])
    return Reply("\n".join(lines), buttons)


def shown(
    ctx: Context, state: State, question: Question, limit: int | None = SUMMARY_SNIPPET
) -> str:
    """An answer as a person reads it; long free text is cut at `limit`."""
    lang = state.lang
    value = state.answers.get(question.key)
    if value is None:
        return ctx.t(lang, "summary.skipped")
    if question.key == "time":
        return ctx.t.record(parse_slot(value, ctx.store), lang, own_zone(ctx, state))
    labels = dict(offered(ctx, state, question)) if not question.parse else {}
    if value in labels:
        return labels[value]
    text = str(value)
    return text if limit is None or len(text) <= limit else text[:limit].rstrip() + "…"


def slot_id(slot: datetime) -> str:
    """A slot's button id: local wall time, minute precision (fits callback_data)."""
    return slot.strftime("%Y-%m-%dT%H:%M")


def parse_slot(slot_id: str, store: Store) -> datetime:
    return datetime.fromisoformat(slot_id).replace(tzinfo=store.schedule.tz)


def match(text: str, options: list[tuple[str, str]]) -> str | None:
    """The option whose id or label the client typed (case, spaces and marks such as the ‹ of
    "‹ Back" or the ✓ of the chosen language ignored)."""
    wanted = _plain(text)
    for option_id, label in options:
        if wanted and wanted in (option_id.casefold(), _plain(label)):
            return option_id
    return None


def _plain(text: str) -> str:
    """A label as typed: letters, digits and single spaces, lower case."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def correction_question(ctx: Context, state: State) -> Reply:
    question = BY_KEY[state.correcting]
    reply = question_reply(ctx, state, question, progress=False)
    reply.buttons = []
    return reply
