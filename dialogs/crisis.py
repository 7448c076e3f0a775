"""Screening free text for signs of acute risk, from phrase lists the practice can extend.

Each list (locales/crisis/*.txt) has `[category]` headers and one phrase per line. A word ending
in `*` matches any word that starts with it (Bulgarian inflects: `самоуби*` covers самоубия,
самоубийство, самоубих се). Matching folds case, stress marks, Bulgarian typed in Latin letters
("samoubiq", "6te se samoubiq"), doubled letters and one-letter slips in longer words, and
allows one extra word between the words of a phrase ("I really want to die").
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

CATEGORIES = ("suicide", "self_harm", "harm_others", "abuse")

# Cyrillic and the Latin ways people type it, folded onto one coarse alphabet.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "z", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "c", "ш": "s", "щ": "st", "ъ": "a",
    "ь": "", "ю": "u", "я": "a", "ѝ": "i", "ё": "e", "ы": "i", "э": "e", "є": "e", "і": "i",
}  # fmt: skip
_LATIN = [
    ("q", "a"),  # я typed as q, before "ia" so "samoubiq" and "самоубия" fold alike
    ("sht", "st"), ("sh", "s"), ("ch", "c"), ("zh", "z"), ("ts", "c"), ("tz", "c"),
    ("ya", "a"), ("ia", "a"), ("ja", "a"), ("yu", "u"), ("iu", "u"), ("ju", "u"),
    ("w", "v"), ("x", "h"), ("j", "z"), ("y", "i"), ("ck", "k"),
]  # fmt: skip
_DIGIT_LETTERS = {"6": "s", "4": "c", "1": "i", "0": "o", "3": "e"}
_WORD = re.compile(r"[a-z]+")


def fold(text: str) -> list[str]:
    """Text as a list of coarse words: the same for "Самоубия", "samoubiq" and "SAMOUBIJA"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(_CYRILLIC.get(c, c) for c in text)
    # Digits stand for letters only inside words ("6te", "4ove4e"), not in "18" or "2 pm".
    text = re.sub(r"(?<=[a-z])[64130]|[64130](?=[a-z])", lambda m: _DIGIT_LETTERS[m[0]], text)
    for typed, canonical in _LATIN:
        text = text.replace(typed, canonical)
    return [re.sub(r"(.)\1+", r"\1", word) for word in _WORD.findall(text)]


@dataclass(frozen=True)
class Phrase:
    category: str
    words: tuple[str, ...]  # folded; a trailing "*" marks a stem
    text: str


def _one_slip(a: str, b: str) -> bool:
    """True when `a` and `b` differ by at most one inserted, deleted or changed letter."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :] or a[i + 1 :] == b[i + 1 :]


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        stem = pattern[:-1]
        if word.startswith(stem):
            return True
        return len(stem) >= 5 and any(
            _one_slip(stem, word[:n]) for n in (len(stem) - 1, len(stem), len(stem) + 1)
        )
    return word == pattern or (len(pattern) >= 5 and _one_slip(pattern, word))


class CrisisScreen:
    """Finds the category of acute risk a text shows, if any."""

    def __init__(self, phrases: list[Phrase]):
        self.phrases = phrases

    @classmethod
    def load(cls, folder: Path) -> "CrisisScreen":
        phrases: list[Phrase] = []
        for path in sorted(folder.glob("*.txt")):
            category = None
            for raw in path.read_text(encoding="utf-8").splitlines():
                line = raw.split("#", 1)[0].strip()
                if line.startswith("[") and line.endswith("]"):
                    category = line[1:-1].strip()
                    if category not in CATEGORIES:
                        raise ValueError(f"{path.name}: unknown category [{category}]")
                elif line:
                    if category is None:
                        raise ValueError(f"{path.name}: phrase {line!r} before any [category]")
                    phrases.append(Phrase(category, _pattern(line), line))
        return cls(phrases)

    def check(self, text: str) -> str | None:
        """The category of the first phrase found in `text`, or None."""
        words = fold(text)
        for phrase in self.phrases:
            if _contains(words, phrase.words):
                return phrase.category
        return None


def _pattern(line: str) -> tuple[str, ...]:
    """A phrase as folded words; a `*` on a written word stays on its last folded part."""
    words: list[str] = []
    for written in line.split():
        parts = fold(written.rstrip("*"))
        if parts and written.endswith("*"):
            parts[-1] += "*"
        words += parts
    return tuple(words)


def _contains(words: list[str], pattern: tuple[str, ...]) -> bool:
    """Pattern words in order, each next one at most one word after the previous."""

    def from_(index: int, part: int) -> bool:
        if part == len(pattern):
            return True
        limit = len(words) if part == 0 else min(len(words), index + 2)
        return any(
            _word_matches(pattern[part], words[i]) and from_(i + 1, part + 1)
            for i in range(index, limit)
        )

    return from_(0, 0)
