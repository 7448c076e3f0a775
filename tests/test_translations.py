"""Every message id used in the code has a real translation in both catalogs."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import locales
from dialogs.i18n import LANGUAGES, Texts

ROOT = Path(__file__).parent.parent
LOCALES = Path(locales.__file__).parent
# `_("id")` marks an id; `t(lang, "id")` and `texts(lang, "id")` (Texts calls) use one.
KEYWORDS = {"_": None, "t": (2,), "texts": (2,)}


def used_message_ids() -> set[str]:
    ids = set()
    for package in ("bot", "dialogs", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def catalog(lang: str) -> dict[str, str]:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return {m.id: m.string for m in read_po(po_file) if m.id and not m.fuzzy}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def test_the_code_uses_many_message_ids():
    assert len(used_message_ids()) > 80


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_used_message_is_translated(lang):
    messages = catalog(lang)
    missing = sorted(i for i in used_message_ids() if not messages.get(i, "").strip())
    assert missing == [], f"{lang} lacks translations for {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_hold_no_unused_messages(lang):
    assert sorted(set(catalog(lang)) - used_message_ids()) == []


def test_translations_keep_the_same_placeholders():
    english, bulgarian = catalog("en"), catalog("bg")
    differing = [i for i in english if placeholders(english[i]) != placeholders(bulgarian[i])]
    assert differing == []


def test_both_catalogs_load_and_differ(texts: Texts):
    assert texts("en", "ask.name") == "What is your first and last name?"
    assert texts("bg", "ask.name") != texts("en", "ask.name")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_privacy_notice_exists_fits_one_message_and_names_the_rights(lang, texts: Texts):
    notice = texts.privacy_notice(lang)
    assert 1000 < len(notice) < 4096
    for command in ("/mydata", "/deletedata", "/withdraw", "/cancel"):
        assert command in notice


def test_an_admins_texts_folder_overrides_the_notice_and_single_messages(tmp_path):
    (tmp_path / "bg" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "bg" / "privacy.txt").write_text("Нашето известие, за {booking_days} дни.\n")
    (tmp_path / "bg" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "command.help"\nmsgstr "Помощ от нас"\n\n'
        'msgid "command.privacy"\nmsgstr ""\n',  # empty: the bundled text stays
        encoding="utf-8",
    )
    bundled, own = Texts(), Texts(own=tmp_path)
    assert own.privacy_notice("bg", booking_days=365) == "Нашето известие, за 365 дни."
    assert own("bg", "command.help") == "Помощ от нас"
    assert own("bg", "command.privacy") == bundled("bg", "command.privacy")
    assert own("bg", "ask.name") == bundled("bg", "ask.name")  # not in the admin's file
    assert own("en", "command.help") == bundled("en", "command.help")
    assert own.privacy_notice("en") == bundled.privacy_notice("en")
    assert own.notice_version() != bundled.notice_version()  # clients are asked to agree again
    assert sorted(p.relative_to(tmp_path).as_posix() for p in own.own) == [
        "bg/LC_MESSAGES/messages.po",
        "bg/privacy.txt",
    ]
    assert Texts(own=tmp_path / "missing").own == []
