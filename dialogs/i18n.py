"""Translated texts from the gettext catalogs in locales/, and dates through babel.

An admin's folder (TEXTS_DIR) may hold their own versions, laid out as locales/ is: a
`<lang>/privacy.txt` there replaces the bundled notice, and the messages of a
`<lang>/LC_MESSAGES/messages.po` there replace the bundled ones of the same id (a catalog with
only the changed messages is enough; messages a new version adds still come from the bundle).
"""

import hashlib
import io
import logging
import re
from datetime import date, datetime, tzinfo
from pathlib import Path

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

import locales

log = logging.getLogger("intake_bot")
NOTICE = "{lang}/privacy.txt"
CATALOG = "{lang}/LC_MESSAGES/messages.po"
LANGUAGES = ("bg", "en")
DEFAULT_LANGUAGE = "bg"


def _(msgid: str) -> str:
    """Mark a message id for extraction; the lookup happens later, per client."""
    return msgid


def pick_language(code: str | None) -> str:
    """Map Telegram's language_code (e.g. "en-GB") to one of ours."""
    base = (code or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


class Texts:
    """Looks up message ids in the bg and en catalogs and formats dates."""

    def __init__(self, locales_dir: Path = Path(locales.__file__).parent, own: Path | None = None):
        self.locales_dir = locales_dir
        self.own_dir = own
        names = [name.format(lang=lang) for name in (NOTICE, CATALOG) for lang in LANGUAGES]
        self.own = [own / name for name in names if own and (own / name).is_file()]
        self._catalogs = {lang: self._catalog(lang) for lang in LANGUAGES}
        # Read once, like the catalogs: the text shown and its version always agree.
        self._notices = {
            lang: self._file(NOTICE.format(lang=lang)).read_text(encoding="utf-8").strip()
            for lang in LANGUAGES
        }
        parts = [self._notices[lang] + self(lang, "ask.consent") for lang in LANGUAGES]
        self._notice_version = self.digest("\n".join(parts))[:12]

    def __call__(self, lang: str, msgid: str, **params: object) -> str:
        text = self._catalogs[lang].gettext(msgid)
        return _fitted(lang, text, params).format(**params) if params else text

    # Dates and times, one method per context: each names what it is for.

    def day(self, day: date, lang: str) -> str:
        """A day on a button, e.g. "вт, 8 дек"."""
        return self._date(day, lang, _("fmt.day_button"))

    def long_day(self, day: date, lang: str) -> str:
        """A day as a heading, e.g. "вторник, 8 декември 2026 г."."""
        return self._date(day, lang, _("fmt.date"))

    def clock(self, moment: datetime, lang: str) -> str:
        """The bare time on a button or in a staff list, e.g. "19:00"."""
        return format_time(moment, "HH:mm", tzinfo=moment.tzinfo, locale=lang)

    def on_day(self, day: date, lang: str) -> str:
        """A day in a sentence, e.g. "във вторник, 8 декември 2026 г." / "on Tuesday, ..."."""
        return self(lang, _("fmt.on_day"), date=self.long_day(day, lang))

    def at(self, moment: datetime, lang: str, own: tzinfo | None = None, year: bool = True) -> str:
        """A booked time in a sentence, with the zone: "във вторник, 8 декември 2026 г., в
        19:00 ч. по българско време"; without the year for a reminder, days ahead at most."""
        text = self._date(moment.date(), lang, _("fmt.date") if year else _("fmt.date_no_year"))
        return self(
            lang,
            _("fmt.at"),
            date=text,
            clock=self._clock(moment, lang),
            zone=self.zone_name(moment, lang) + self._own_time(moment, lang, own),
        )

    def record(self, moment: datetime, lang: str, own: tzinfo | None = None) -> str:
        """A booked time after a label ("Кога: ..."), with the zone: "вторник, 8 декември
        2026 г., 19:00 ч. по българско време"."""
        return self(
            lang,
            _("fmt.record"),
            date=self.long_day(moment.date(), lang),
            clock=self._clock(moment, lang),
            zone=self.zone_name(moment, lang) + self._own_time(moment, lang, own),
        )

    def when(self, moment: datetime, lang: str) -> str:
        """A booking for the staff, who work in the practice's zone: "вторник, 8 декември
        2026 г., 19:00 ч."."""
        return self(
            lang,
            _("fmt.when"),
            day=self.long_day(moment.date(), lang),
            time=self._clock(moment, lang),
        )

    def stamp(self, moment: datetime, lang: str) -> str:
        """When something happened, in a record of /mydata: "8 декември 2026 г., 19:03 ч. по
        българско време"."""
        return self(
            lang,
            _("fmt.stamp"),
            date=self._date(moment.date(), lang, _("fmt.date_stamp")),
            clock=self._clock(moment, lang),
            zone=self.zone_name(moment, lang),
        )

    def times_note(self, moment: datetime, lang: str, own: tzinfo | None = None) -> str:
        """Under a list of times: which zone they are in, and one of them in the client's."""
        theirs = self._theirs(moment, own)
        if theirs is None:
            return self(lang, _("ask.times_zone"), zone=self.zone_name(moment, lang))
        return self(
            lang,
            _("ask.times_own"),
            zone=self.zone_name(moment, lang),
            clock=self._clock(moment, lang),
            own_clock=self._clock(theirs, lang),
            city=self._city(theirs, lang),
        )

    def zone_name(self, moment: datetime, lang: str) -> str:
        """The practice's zone as words: "по българско време" / "Sofia time"."""
        zone = moment.tzinfo
        key = getattr(zone, "key", "")
        if get_global("zone_territories").get(key) == "BG":
            return self(lang, _("zone.bulgaria"))
        return self(lang, _("zone.named"), city=get_timezone_location(zone, lang, True))

    def _own_time(self, moment: datetime, lang: str, own: tzinfo | None) -> str:
        """ " (17:00 ч. в Лондон)" when the client's zone differs then; "" otherwise."""
        theirs = self._theirs(moment, own)
        if theirs is None:
            return ""
        clock = self._clock(theirs, lang)
        return " " + self(lang, _("zone.own"), clock=clock, city=self._city(theirs, lang))

    @staticmethod
    def _theirs(moment: datetime, own: tzinfo | None) -> datetime | None:
        """The moment on the client's clock, if that differs from the practice's then."""
        if own is None:
            return None
        theirs = moment.astimezone(own)
        return theirs if theirs.utcoffset() != moment.utcoffset() else None

    def _city(self, moment: datetime, lang: str) -> str:
        return get_timezone_location(moment.tzinfo, lang, True)

    def _clock(self, moment: datetime, lang: str) -> str:
        return self(lang, _("fmt.clock"), time=self.clock(moment, lang))

    def _date(self, day: date, lang: str, pattern_id: str) -> str:
        # The babel pattern is in the catalog: each language writes its dates its own way.
        return format_date(day, self(lang, pattern_id), locale=lang)

    def language_name(self, code: str, lang: str, title: bool = True) -> str:
        """A language's name in `lang`; capitalized for buttons, as written mid-sentence if not."""
        name = Locale.parse(code).get_display_name(lang) or code
        return name[:1].upper() + name[1:] if title else name

    def privacy_notice(self, lang: str, **periods: int) -> str:
        """The full notice; {abandoned_days} and {booking_days} become the configured periods."""
        text = self._notices[lang]
        for name, value in periods.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def notice_version(self) -> str:
        """Changes whenever the notice or the consent text changes, in any language."""
        return self._notice_version

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def _file(self, name: str) -> Path:
        """The admin's version of a file if there is one, else the bundled one."""
        own = self.own_dir / name if self.own_dir else None
        return own if own in self.own else self.locales_dir / name

    def _catalog(self, lang: str) -> Translations:
        # Compiled in memory from the .po file, so an edited catalog needs no build step
        # and a missing one fails loudly instead of falling back to message ids.
        catalog = _read_po(self.locales_dir / CATALOG.format(lang=lang), lang)
        own = self._file(CATALOG.format(lang=lang))
        if own in self.own:
            for message in _read_po(own, lang):
                if message.id and message.string:  # an empty msgstr keeps the bundled text
                    catalog.delete(message.id)  # add() alone would keep the bundled text
                    catalog.add(message.id, message.string)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(fp=buffer)


def _read_po(path: Path, lang: str):
    with path.open("rb") as po_file:
        return read_po(po_file, locale=lang)


# Bulgarian writes "във" before a word that starts with в or ф ("във вторник", "във Виена"):
# the texts write "в {placeholder}" and the value decides. Only the text's own "в" changes,
# never the client's words in a value.
_IN_BEFORE = re.compile(r"(?<!\w)([вВ]) (?=\{(\w+)\})")
# A value that ends in a full stop ("19:00 ч.", "2026 г.") ends the sentence too: "{when}."
# keeps one stop.
_STOP_AFTER = re.compile(r"\{(\w+)\}\.")


def _fitted(lang: str, text: str, params: dict[str, object]) -> str:
    """The template made to fit its values before they go in."""

    def preposition(match: re.Match[str]) -> str:
        value = str(params.get(match[2], ""))
        return match[1] + ("ъв " if value[:1].casefold() in ("в", "ф") else " ")

    def stop(match: re.Match[str]) -> str:
        ends = str(params.get(match[1], "")).endswith(".")
        return match[0][:-1] if ends else match[0]

    if lang == "bg":
        text = _IN_BEFORE.sub(preposition, text)
    return _STOP_AFTER.sub(stop, text)
