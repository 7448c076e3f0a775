"""Reading an answer: parsing it, a shared contact, and moving on to the next question."""

from typing import Any

from dialogs import screens
from dialogs.i18n import _
from dialogs.messages import (
    DEMO_CODE,
    Context,
    Input,
    Outcome,
    Reply,
    State,
    Turn,
    split_message,
)
from dialogs.parsers import FREE_TEXT_MAX, Invalid
from dialogs.questions import (
    BY_KEY,
    QUESTIONS,
    Question,
    next_key,
)


def parse(ctx: Context, state: State, question: Question, text: str, out: Outcome) -> Any:
    """The parsed answer, or None after telling the client what is wrong with it."""
    try:
        value = question.parse(text)
        if question.lookup == "org":
            org = ctx.store.find_active_org(value)
            if org is None or (org.code == DEMO_CODE and not ctx.config.accept_demo_code):
                raise Invalid(_("error.org_unknown"))
            value = org.code
        if question.free_text and len(value) > FREE_TEXT_MAX:
            value = keep_first_part(ctx, state, value, out)
        return value
    except Invalid as invalid:
        misses = state.misses[question.key] = state.misses.get(question.key, 0) + 1
        message = ctx.t(state.lang, invalid.reason, **invalid.params)
        if question.help and misses >= question.help_after_misses:
            message += "\n\n" + ctx.t(
                state.lang, question.help, contact=ctx.config.practice_contact
            )
        out.replies.append(Reply(message))
        return None


def keep_first_part(ctx: Context, state: State, text: str, out: Outcome) -> str:
    """Keep what one answer holds, ending at a word, and give the client back the rest."""
    cut = text[:FREE_TEXT_MAX]
    end = cut.rfind(" ", FREE_TEXT_MAX - 200)  # a word cut in two would read as a typo
    kept = cut[: end if end > 0 else FREE_TEXT_MAX].rstrip()
    rest = text[len(kept) :].strip()
    ending = " ".join(kept.split()[-6:])
    out.replies.append(Reply(ctx.t(state.lang, "answer.kept_part", ending=ending)))
    out.replies += [Reply(part) for part in split_message(rest)]
    return kept


# Telegram cuts a message over 4,096 characters into several: the parts after the first arrive
# at the next question. Text this long at a question with buttons is such a part.
CONTINUATION_MIN = 200


def continues_free_text(ctx: Context, state: State, text: str, out: Outcome) -> bool:
    """Add a long text typed at a question with buttons to the client's own words just before
    it, if there are any (their message went on); False if it is not that."""
    keys = [question.key for question in QUESTIONS]
    before = keys[-1] if state.step == "summary" else keys[keys.index(state.step) - 1]
    question = BY_KEY[before]
    if len(text) < CONTINUATION_MIN or not question.free_text or before not in state.answers:
        return False
    combined = f"{state.answers[before]}\n{text.strip()}"
    if len(combined) > FREE_TEXT_MAX:
        combined = keep_first_part(ctx, state, combined, out)
    state.answers[before] = combined
    label = ctx.t(state.lang, question.label)
    out.replies.append(Reply(ctx.t(state.lang, "answer.added", label=label)))
    return True


def own_phone(ctx: Context, state: State, inp: Input, turn: Turn) -> str | None:
    """The number of a shared contact if it is the sender's own, else None (and why)."""
    question = BY_KEY.get(state.correcting or state.step)
    if question is None or not question.accepts_contact:
        turn.out.replies.append(Reply(ctx.t(state.lang, "error.not_text")))
    elif inp.contact_user_id != turn.user_id:
        turn.out.replies.append(Reply(ctx.t(state.lang, "error.contact_not_own")))
    else:
        digits = inp.value.strip()
        return digits if digits.startswith("+") else "+" + digits
    return None


def advance(ctx: Context, state: State, question: Question, out: Outcome) -> None:
    if question.key == "day":
        state.step = "time"
    elif state.editing:
        state.step, state.editing = "summary", False
        out.replies.append(Reply(ctx.t(state.lang, "edit.saved")))
    else:
        state.step = next_key(question.key)
    state.offer = []  # times offered instead of a lost one are for that moment only
    screens.ask(ctx, state, out)
