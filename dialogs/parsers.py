"""Answer parsers: plain `str -> value` functions that raise Invalid with a message id."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import timezone as phone_zones

from dialogs.i18n import _

# Latin (with accents) and Cyrillic letters; a word may join parts with a hyphen or apostrophe.
_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0400-\u04ff"
_NAME_WORD = re.compile(rf"[{_LETTERS}]+(?:[-'’ʼ][{_LETTERS}]+)*")
_AGE = re.compile(r"(\d{1,3})\s*(?:г\.?|год\.?|години|годин[аи]|y\.?o\.?|years?( old)?)?", re.I)
_HAS_LETTER = re.compile(rf"[{_LETTERS}]")


class Invalid(ValueError):
    """An answer that does not fit; `reason` is a message id shown to the client."""

    def __init__(self, reason: str, **params: object):
        super().__init__(reason)
        self.reason = reason
        self.params = params


def tidy(text: str) -> str:
    """Trim and fold runs of white space into single spaces."""
    return " ".join(text.split())


def parse_org_code(text: str) -> str:
    code = "".join(text.split()).upper()
    if not code or len(code) > 64:
        raise Invalid(_("error.org_code"))
    return code


def parse_name(text: str) -> str:
    name = tidy(text)
    if len(name) > 100:
        raise Invalid(_("error.name_long"))
    words = name.split(" ")
    if not all(_NAME_WORD.fullmatch(word) for word in words):
        raise Invalid(_("error.name_letters"))
    if len(words) < 2:
        raise Invalid(_("error.name_two_words"))
    return name


def parse_age(text: str) -> int:
    match = _AGE.fullmatch(tidy(text))
    if not match:
        raise Invalid(_("error.age_number"))
    age = int(match[1])
    if age > 120 or age < 1:
        raise Invalid(_("error.age_range"))
    return age


def parse_phone(text: str) -> str:
    """Any common way of writing a number; Bulgarian numbers may omit the country code."""
    try:
        number = phonenumbers.parse(text, "BG")
    except phonenumbers.NumberParseException:
        raise Invalid(_("error.phone")) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(_("error.phone"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def zone_of_phone(phone: object) -> ZoneInfo | None:
    """The time zone a stored number points to, if exactly one (a UK number: London; a US
    one spans several, so None)."""
    try:
        zones = phone_zones.time_zones_for_number(phonenumbers.parse(str(phone or "")))
        return ZoneInfo(zones[0]) if len(zones) == 1 else None
    except (phonenumbers.NumberParseException, ZoneInfoNotFoundError, ValueError):
        return None


def parse_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(_("error.email")) from None


def parse_city(text: str) -> str:
    city = tidy(text)
    if not 2 <= len(city) <= 80 or not _HAS_LETTER.search(city):
        raise Invalid(_("error.city"))
    return city


# Far more than one Telegram message (4,096 characters) holds: only a pasted book reaches it,
# and then the first part is kept (answers.keep_first_part), never the whole refused.
FREE_TEXT_MAX = 12_000


def free_text(min_words: int, reason: str):
    """A parser for the client's own words: at least `min_words` words, however long."""

    def parse(text: str) -> str:
        answer = text.strip()
        if len(_WORD.findall(answer)) < min_words:
            raise Invalid(reason, words=min_words)
        return answer

    return parse


_WORD = re.compile(r"[^\W_]+")  # a run of letters or digits, in any alphabet
parse_reason = free_text(2, _("error.reason_length"))  # "a few words": "тъжен съм" will do
parse_notes = free_text(1, _("error.notes_length"))
