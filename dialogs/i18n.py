"""Translated texts from the gettext catalogs in locales/, and dates through babel."""

import hashlib
import io
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

import locales

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

    def __init__(self, locales_dir: Path = Path(locales.__file__).parent):
        self.locales_dir = locales_dir
        self._catalogs = {lang: _load_catalog(locales_dir, lang) for lang in LANGUAGES}
        # Read once, like the catalogs: the text shown and its version always agree.
        self._notices = {
            lang: (locales_dir / lang / "privacy.txt").read_text(encoding="utf-8").strip()
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


def _load_catalog(locales_dir: Path, lang: str) -> Translations:
    # Compiled in memory from the .po file, so an edited catalog needs no build step
    # and a missing one fails loudly instead of falling back to message ids.
    po_path = locales_dir / lang / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)
