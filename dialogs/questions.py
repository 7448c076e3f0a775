"""The intake questionnaire as data: one row per question, asked in this order."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dialogs.i18n import _
from dialogs.parsers import (
    parse_age,
    parse_city,
    parse_email,
    parse_name,
    parse_notes,
    parse_org_code,
    parse_phone,
    parse_reason,
)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str  # message id


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str  # message id of the question
    label: str | None = None  # message id in the summary; None: not shown there
    parse: Callable[[str], Any] | None = None  # for typed answers
    choices: tuple[Choice, ...] = ()  # fixed buttons
    options: str | None = None  # buttons that come from configuration or the schedule
    optional: bool = False  # offers a Skip button
    accepts_contact: bool = False  # offers Telegram's "share my phone number"
    lookup: str | None = None  # checked against the store, e.g. "org"
    help_after_misses: int = 0  # after this many wrong answers, also show `help`
    help: str | None = None
    stop_below: int | None = None  # numeric answers under this end the intake (after a confirm)
    edit_from: str | None = None  # editing this answer starts at another question
    saved: str | None = None  # message id confirming the answer as understood, e.g. a number
    free_text: bool = False  # the client's own words: kept even when they show a risk
    columns: int = 2
    contact: bool = False  # how to reach the client: in the staff notice and the waiting list
    correctable: bool = False  # the client can correct it from /mydata after booking


YES_NO = (Choice("yes", _("choice.yes")), Choice("no", _("choice.no")))

QUESTIONS: tuple[Question, ...] = (
    Question(
        "org",
        _("ask.org"),
        _("label.org"),
        parse=parse_org_code,
        lookup="org",
        help_after_misses=3,
        help=_("help.org"),
    ),
    Question(
        "name", _("ask.name"), _("label.name"), parse=parse_name, contact=True, correctable=True
    ),
    Question(
        "gender",
        _("ask.gender"),
        _("label.gender"),
        choices=(
            Choice("woman", _("gender.woman")),
            Choice("man", _("gender.man")),
            Choice("other", _("gender.other")),
            Choice("undisclosed", _("gender.undisclosed")),
        ),
    ),
    Question("age", _("ask.age"), _("label.age"), parse=parse_age, stop_below=18),
    # The confirmation also takes away the "share my number" keyboard before the next question.
    Question(
        "phone",
        _("ask.phone"),
        _("label.phone"),
        parse=parse_phone,
        accepts_contact=True,
        saved=_("saved.phone"),
        contact=True,
        correctable=True,
    ),
    Question(
        "email",
        _("ask.email"),
        _("label.email"),
        parse=parse_email,
        contact=True,
        correctable=True,
    ),
    Question("city", _("ask.city"), _("label.city"), parse=parse_city, correctable=True),
    Question("reason", _("ask.reason"), _("label.reason"), parse=parse_reason, free_text=True),
    Question("way", _("ask.way"), _("label.way"), options="ways", columns=3),
    Question(
        "consult_lang", _("ask.consult_lang"), _("label.consult_lang"), options="consult_langs"
    ),
    Question("day", _("ask.day"), options="days", columns=3),
    Question("time", _("ask.time"), _("label.time"), options="times", edit_from="day", columns=4),
    Question(
        "experience", _("ask.experience"), _("label.experience"), choices=YES_NO, optional=True
    ),
    Question(
        "notes", _("ask.notes"), _("label.notes"), parse=parse_notes, optional=True, free_text=True
    ),
)

CONTACT = tuple(q.key for q in QUESTIONS if q.contact)  # name, phone, e-mail
CORRECTABLE = tuple(q.key for q in QUESTIONS if q.correctable)
BY_KEY = {question.key: question for question in QUESTIONS}

# Ways of consulting the practice may offer (CONSULTATION_WAYS picks from these).
WAY_LABELS = {
    "video": _("way.video"),
    "phone": _("way.phone"),
    "chat": _("way.chat"),
    "in_person": _("way.in_person"),
}

# What the staff are told a risk was about.
CRISIS_LABELS = {
    "suicide": _("crisis.category.suicide"),
    "self_harm": _("crisis.category.self_harm"),
    "harm_others": _("crisis.category.harm_others"),
    "abuse": _("crisis.category.abuse"),
    "hopelessness": _("crisis.category.hopelessness"),
}


def previous_key(key: str) -> str | None:
    """The question before `key` (its first part, for a two-part one), or None for the first."""
    keys = [question.key for question in QUESTIONS]
    index = keys.index(key)
    if index == 0:
        return None
    before = BY_KEY[keys[index - 1]]
    return before.edit_from or before.key


def next_key(key: str) -> str:
    """The question after `key`, or "summary" after the last."""
    keys = [question.key for question in QUESTIONS]
    index = keys.index(key) + 1
    return keys[index] if index < len(keys) else "summary"
