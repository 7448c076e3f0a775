"""Translated texts from the gettext catalogs in locales/, and dates through babel.

An admin's folder (TEXTS_DIR) may hold their own versions, laid out as locales/ is: a
`<lang>/privacy.txt` there replaces the bundled notice, and the messages of a
`<lang>/LC_MESSAGES/messages.po` there replace the bundled ones of the same id (a catalog with
only the changed messages is enough; messages a new version adds still come from the bundle).
"""

import hashlib
import io
import logging
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
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
        return text.format(**params) if params else text

    def day(self, day: date, lang: str) -> str:
        """Short day for a button, e.g. "пн, 23 ное"."""
        return format_date(day, "EEE, d MMM", locale=lang)

    def long_day(self, day: date, lang: str) -> str:
        return format_date(day, "EEEE, d MMMM y", locale=lang)

    def clock(self, moment: datetime, lang: str) -> str:
        return format_time(moment, "HH:mm", tzinfo=moment.tzinfo, locale=lang)

    def when(self, moment: datetime, lang: str) -> str:
        """A slot in full, e.g. "понеделник, 23 ноември 2026, 09:00 ч."."""
        return self(
            lang,
            _("fmt.when"),
            day=self.long_day(moment.date(), lang),
            time=self.clock(moment, lang),
        )

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
