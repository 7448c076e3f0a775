"""Screening free text for signs of acute risk, from rules a clinician can read and extend.

The rules live in locales/crisis/*.txt (the format is explained at the top of en.txt). They
name concepts (a list of words and phrases: {means} = pills, rope, bridge...) and combine them
("{intent} + {die}", "{means} & {gathering}"), so that "I've been saving up my pills" is caught
without the word "suicide", while everyday expressions listed under [not] ("dead tired") are
never read as risk.

Before matching, text is folded onto one coarse alphabet: case, stress marks, Cyrillic and the
Latin ways people type Bulgarian ("samoubiq", "6te se ubiq") become the same words. Longer words
also match with one letter missing or two letters swapped. One pass of an Aho-Corasick automaton
finds every word of every rule, so screening takes time linear in the length of the text.
"""

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, chain, compress
from pathlib import Path

import ahocorasick

# Most urgent first: when a message shows more than one, the first decides the guidance.
CATEGORIES = ("suicide", "self_harm", "abuse", "harm_others", "hopelessness")

PHRASE_GAP = 1  # extra words allowed between the words of a phrase ("want to really die")
RULE_GAP = 4  # words allowed between the parts of a rule joined by "+"
TYPO_MIN = 5  # folded words this long match with two letters swapped; longer ones also with one
# letter missing ("sucide"): in shorter words a missing letter too often makes another word

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
    ("ya", "a"), ("ia", "a"), ("yu", "u"), ("iu", "u"),  # "ja" is more often жа: "reja"
    ("w", "s"), ("x", "h"), ("j", "z"), ("y", "i"), ("ck", "k"),  # "wte" is ще
]  # fmt: skip
_DIGIT_LETTERS = {"6": "s", "4": "c", "1": "i", "0": "o", "3": "e"}
# The digit first, so that the search skips straight to digits.
_DIGIT_IN_WORD = re.compile(r"[64130](?:(?<=[a-z].)|(?=[a-z]))")
# A blank line ends a sentence, one line break does not: on a phone "i want\nto die" is one.
_SENTENCE_END = re.compile(r"[.!?;|]+|\n\s*\n|\s[-–—]\s")
_BREAK = "|"  # stands for the end of a sentence in folded text
_WORD = re.compile(r"[a-z]+|\|")
_ANY_WORD = re.compile(r"[^\W_]+|\|")
# Stress marks (after NFKD), apostrophes, and invisible characters that split a word
# ("d\u200bie"): zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks.
_MARKS = re.compile(r"[\u0300-\u036f'’\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
# ASCII maps to itself in the table too: str.translate is several times faster when it finds
# every character it meets.
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC) | {code: code for code in range(128)}
_NUMBER = re.compile(r"\d{2,}")
_DOUBLED = re.compile(r"(.)(?=\1)")  # dropped: a run of one letter keeps one
# Letters typed in Latin more than one way: a rule word with them matches each way ("ръка" as
# "raka", "ruka", "ryka"; "режа" as "reja", "драпя" as "drapja", "живея" as "wiveq").
_TYPED_AS = {"ъ": ("а", "у", "и"), "я": ("я", "жа"), "ю": ("ю", "жу"), "ж": ("ж", "ш")}
_TYPED_AS_SHORT = {"ъ": ("а", "у", "и")}  # in short words "ш" for ж ("нош") is too often real


def _plain(text: str) -> str:
    """Lower case, no stress marks or apostrophes ("don't" is "dont"), numbers from 10 up as
    the word "nn" ("took 20 pills" is "took nn pills"), and "|" where a sentence ends."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    text = _SENTENCE_END.sub(" | ", text)
    return _NUMBER.sub(" nn ", text)


def _plain_words(plain: str) -> list[str]:
    return _ANY_WORD.findall(_DOUBLED.sub("", plain))


def _bulgarian_words(plain: str) -> list[str]:
    text = plain.translate(_CYRILLIC_TABLE)
    # Digits stand for letters only inside words ("6te", "4ove4e"), not in "18" or "2 pm".
    text = _DIGIT_IN_WORD.sub(lambda m: _DIGIT_LETTERS[m[0]], text)
    for typed, canonical in _LATIN:
        text = text.replace(typed, canonical)
    return _WORD.findall(_DOUBLED.sub("", text))


def fold_plain(text: str) -> list[str]:
    """Text as words, for rules written in English: "Dieeee" is "die"."""
    return _plain_words(_plain(text))


def fold(text: str) -> list[str]:
    """Text as a list of coarse words: the same for "Самоубия", "samoubiq" and "SAMOUBIJA"."""
    return _bulgarian_words(_plain(text))


# How a file's words and the text are folded, from text through _plain (done once for both).
FOLDS = {"plain": _plain_words, "bulgarian": _bulgarian_words}


# A rule as data

Token = str  # a folded word, "stem*", or "{concept}"


@dataclass(frozen=True)
class Rule:
    category: str
    parts: tuple[tuple[Token, ...], ...]  # each part: tokens next to each other
    joins: tuple[str, ...]  # between parts: "+" (near, in order) or "&" (same sentence)
    text: str  # as written, for error messages and reviews
    whole: str | None = None  # part of a rule joined by "&&": that rule as written


@dataclass
class Rules:
    """One file's concepts, rules and everyday expressions."""

    name: str
    letters: str = "plain"  # how its words and the text are folded: a key of FOLDS
    concepts: dict[str, list[tuple[Token, ...]]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    everyday: list[tuple[Token, ...]] = field(default_factory=list)
    # Rules joined by "&&", each part anywhere in the message: rule -> (category, its parts)
    wholes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def _tokens(phrase: str, letters: str = "plain") -> tuple[Token, ...]:
    """Written words as tokens; a word with ъ becomes its typed forms joined by "|"."""
    tokens: list[Token] = []
    words_of = FOLDS[letters]
    for written in phrase.split():
        if written.startswith("{") and written.endswith("}"):
            tokens.append(written)
            continue
        star = "*" if written.endswith("*") else ""
        bare = written.rstrip("*")
        parts = words_of(_plain(bare))
        if letters == "bulgarian" and len(parts) == 1:
            forms = {p for form in _typed_forms(bare.lower()) for p in words_of(_plain(form))}
            tokens.append("|".join(sorted(f + star for f in forms)))
            continue
        if parts and star:
            parts[-1] += star
        tokens += parts
    return tuple(tokens)


def _typed_forms(word: str) -> list[str]:
    ways = _TYPED_AS if len(word) >= 5 else _TYPED_AS_SHORT
    forms = [""]
    for letter in word:
        forms = [form + typed for form in forms for typed in ways.get(letter, (letter,))]
    return forms[:16]


def parse(name: str, text: str) -> Rules:
    rules = Rules(name)
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}, line {number}"
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section.startswith("letters "):
                rules.letters = section.removeprefix("letters ").strip()
                if rules.letters not in FOLDS:
                    raise ValueError(f"{where}: letters are one of {', '.join(FOLDS)}")
                section = None
            elif section.startswith("words "):
                concept = section.removeprefix("words ").strip()
                section = "{" + concept + "}"
                rules.concepts.setdefault(section, [])
            elif section not in CATEGORIES and section != "not":
                raise ValueError(f"{where}: unknown section [{section}]")
            continue
        if section is None:
            raise ValueError(f"{where}: {line!r} before any [section]")
        if section.startswith("{") or section == "not":
            phrase = _tokens(line, rules.letters)
            if not phrase or any(t.startswith("{") for t in phrase):
                raise ValueError(f"{where}: a word list holds words, not {line!r}")
            target = rules.concepts[section] if section != "not" else rules.everyday
            target.append(phrase)
            continue
        sentences_of = [piece.strip() for piece in line.split("&&")]
        whole = line if len(sentences_of) > 1 else None
        for one in sentences_of:
            pieces = re.split(r"\s*([+&])\s*", one)
            parts = tuple(_tokens(piece, rules.letters) for piece in pieces[::2])
            if not all(parts):
                raise ValueError(f"{where}: an empty part in {line!r}")
            rules.rules.append(Rule(section, parts, tuple(pieces[1::2]), one, whole))
        if whole:
            rules.wholes[whole] = (section, tuple(sentences_of))
    for rule in rules.rules:
        for token in (t for part in rule.parts for t in part):
            if token.startswith("{") and token not in rules.concepts:
                raise ValueError(f"{name}: {rule.text!r} uses {token}, which is not defined")
    return rules


# Matching

Span = tuple[int, int]  # the places of its first and last word in the message

_NO_IDS: frozenset[int] = frozenset()
_SENTENCE_END_ID = -1  # the id of no rule word: the places where sentences end
# A sentence end takes the place of this many words, so that no phrase or rule reaches across
# it, and a whole message is matched at once.
_SENTENCE_END_IDS = (frozenset({_SENTENCE_END_ID}),) + (_NO_IDS,) * RULE_GAP


def _variants(word: str, stem: bool = False) -> set[str]:
    """The word, and with one letter missing or two letters swapped when it is long. A stem
    never loses its last letter: "belezi*" must not become "belez*", which "beleznik" has."""
    found = {word}
    for i in range(len(word)):
        if len(word) > TYPO_MIN and not (stem and i == len(word) - 1):
            found.add(word[:i] + word[i + 1 :])
        if len(word) >= TYPO_MIN and i + 1 < len(word):
            found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return found


def _chain(lists: list[list[Span]], gap: int) -> list[Span]:
    """Spans where one of each list follows the previous with at most `gap` words between.
    Linear in the spans: each span looks only at the few that start within its window."""
    spans = sorted(set(lists[0]))
    for following in lists[1:]:
        ahead = sorted(set(following))
        starts = [start for start, _end in ahead]
        joined = {
            (start, end2)
            for start, end in spans
            for _start2, end2 in ahead[
                bisect_right(starts, end) : bisect_right(starts, end + 1 + gap)
            ]
        }
        spans = sorted(joined)
        if not spans:
            break
    return spans


class _Alphabet:
    """The words of every rule file folded one way, in one automaton; and the words of the
    messages seen so far with the rule words they match, so that a word is folded and looked
    up once and after that costs one dictionary lookup."""

    KNOWN_AT_MOST = 100_000  # words remembered; then all forgotten and learned again

    def __init__(self, words_of):
        self.words_of = words_of
        self.ids: dict[Token, int] = {}  # word pattern ("die", "suicid*") -> id
        self.everyday: dict[int, list[tuple[int, ...]]] = {}  # of every file, by first id
        # A word of the text (as _plain_words splits it) -> what each word it folds to matches
        self.known: dict[str, tuple[frozenset[int], ...]] = {}
        self.containing: dict[int, set[frozenset[int]]] = {}  # id -> what known words match
        self._forget()

    def add(self, rules: Rules) -> None:
        phrases = [p for ps in rules.concepts.values() for p in ps] + rules.everyday
        phrases += [part for rule in rules.rules for part in rule.parts]
        for token in (t for phrase in phrases for t in phrase if not t.startswith("{")):
            self.ids.setdefault(token, len(self.ids))
        for phrase in rules.everyday:
            as_ids = tuple(self.ids[t] for t in phrase)
            self.everyday.setdefault(as_ids[0], []).append(as_ids)

    @cached_property
    def automaton(self) -> "ahocorasick.Automaton":
        """Keys are " word " (the whole word) or " stem" (any word starting so)."""
        keys: dict[str, set[int]] = {}
        for token, ident in self.ids.items():
            stem = token.endswith("*")
            for form in token.split("|"):
                for variant in _variants(form.rstrip("*"), stem):
                    keys.setdefault(" " + variant + ("" if stem else " "), set()).add(ident)
        automaton = ahocorasick.Automaton()
        for key, idents in keys.items():
            automaton.add_word(key, (len(key), frozenset(idents)))
        automaton.make_automaton()
        return automaton

    def ids_at(self, words: list[str]) -> list[frozenset[int]]:
        """The ids of the rule words matched at each place of a message."""
        new = set(words).difference(self.known)
        if len(self.known) + len(new) > self.KNOWN_AT_MOST:
            self._forget()
            new = set(words).difference(self.known)
        if new:
            self._learn(list(new))
        return list(chain.from_iterable(map(self.known.__getitem__, words)))

    def _forget(self) -> None:
        self.known = {_BREAK: _SENTENCE_END_IDS}
        self.containing = {_SENTENCE_END_ID: set(_SENTENCE_END_IDS[:1])}

    def _learn(self, words: list[str]) -> None:
        """Folds new words and runs the automaton over them, all in one go."""
        folded = self.words_of(" | ".join(words))  # what each word folds to, then "|"
        # Where " word" begins in the line -> the folded word's index
        offsets = accumulate(map((1).__add__, map(len, folded)), initial=0)
        index_at = dict(zip(offsets, range(len(folded)), strict=False))
        found = [_NO_IDS] * len(folded)
        for end, (length, idents) in self.automaton.iter(" " + " ".join(folded) + " "):
            index = index_at[end - length + 1]
            found[index] = found[index] | idents
        each = iter(words)
        pieces: list[frozenset[int]] = []
        for word, ids in zip(folded, found, strict=True):
            if word == _BREAK:
                self.known[next(each)] = tuple(pieces)
                pieces = []
            else:
                pieces.append(ids)
                for ident in ids:
                    self.containing.setdefault(ident, set()).add(ids)
        self.known[next(each)] = tuple(pieces)


class _Words:
    """One message in one alphabet: where the words are that match rule words."""

    def __init__(self, alphabet: _Alphabet, words: list[str]):
        self.alphabet = alphabet
        self.at: dict[frozenset[int], list[int]] = {}  # what a word matches -> its places
        ids_at = alphabet.ids_at(words)
        for place, ids in compress(enumerate(ids_at), ids_at):
            self.at.setdefault(ids, []).append(place)
        self.present: set[int] = set().union(*self.at)  # the ids of the words found
        self._places: dict[int, list[int]] = {}
        self.masked: set[int] = set()
        self.masked = self._everyday()
        self._places.clear()

    def places(self, ident: int) -> list[int]:
        """Where the words are that match the rule word `ident`, in order."""
        if ident not in self._places:
            at = self.at
            lists = [at[ids] for ids in self.alphabet.containing.get(ident, ()) if ids in at]
            found = lists[0] if len(lists) == 1 else sorted(chain.from_iterable(lists))
            if self.masked:
                found = [place for place in found if place not in self.masked]
            self._places[ident] = found
        return self._places[ident]

    def _everyday(self) -> set[int]:
        """ "dead tired": the places of everyday expressions, whose words count for no rule."""
        everyday, present = self.alphabet.everyday, self.present
        return {
            place
            for first in everyday.keys() & present
            for phrase in everyday[first]
            if all(ident in present for ident in phrase)
            for start, end in _chain([[(p, p) for p in self.places(i)] for i in phrase], PHRASE_GAP)
            for place in range(start, end + 1)
        }

    def sentence(self, place: int) -> int:
        return bisect_left(self.places(_SENTENCE_END_ID), place)


class _Compiled:
    """One rule file with its words as the ids of its alphabet, ready to match."""

    def __init__(self, rules: Rules, ids: dict[Token, int]):
        self.rules, self.ids = rules, ids
        # Each concept's phrases by the id of their first word.
        self.concepts: dict[Token, dict[int, list[tuple[Token, ...]]]] = {}
        # Word id -> the tokens (words and concepts) that a phrase starting with it can be.
        self.starts: dict[int, set[Token]] = {}
        for name, phrases in rules.concepts.items():
            by_first = self.concepts.setdefault(name, {})
            for phrase in phrases:
                by_first.setdefault(ids[phrase[0]], []).append(phrase)
                self.starts.setdefault(ids[phrase[0]], set()).add(name)
        for token, ident in ids.items():
            self.starts.setdefault(ident, set()).add(token)
        # A rule can only hold where all its tokens can: most are ruled out by that alone.
        self.by_category: dict[str, list[tuple[Rule, frozenset[Token]]]] = {
            category: [] for category in CATEGORIES
        }
        # The parts of rules joined by "&&", by (that rule, the part) as written
        self.parts: dict[tuple[str, str], tuple[Rule, frozenset[Token]]] = {}
        for rule in rules.rules:
            entry = (rule, frozenset(t for part in rule.parts for t in part))
            if rule.whole is None:
                self.by_category[rule.category].append(entry)
            else:
                self.parts[rule.whole, rule.text] = entry


class CrisisScreen:
    """Finds the category of acute risk a text shows, if any."""

    def __init__(self, rule_sets: list[Rules]):
        self.rule_sets = rule_sets
        self.alphabets = {letters: _Alphabet(words_of) for letters, words_of in FOLDS.items()}
        for rules in rule_sets:
            self.alphabets[rules.letters].add(rules)
        self.compiled = [_Compiled(r, self.alphabets[r.letters].ids) for r in rule_sets]

    @classmethod
    def load(cls, folder: Path) -> "CrisisScreen":
        paths = sorted(folder.glob("*.txt"))
        return cls([parse(path.name, path.read_text(encoding="utf-8")) for path in paths])

    def check(self, text: str) -> str | None:
        """The most urgent category `text` shows, or None."""
        matches = self._matches(text)
        return next((c for c in CATEGORIES if self._found(matches, c) is not None), None)

    def findings(self, text: str) -> dict[str, str]:
        """Each category found, with the first rule that found it (for reviews of the rules)."""
        matches = self._matches(text)
        found = {c: self._found(matches, c) for c in CATEGORIES}
        return {category: rule for category, rule in found.items() if rule is not None}

    def _matches(self, text: str) -> list["_Match"]:
        # Each word of the text folds on its own, so each alphabet folds only words it has
        # not seen before.
        plain = _ANY_WORD.findall(_plain(text))
        used = {rules.letters for rules in self.rule_sets}
        words = {letters: _Words(self.alphabets[letters], plain) for letters in used}
        return [_Match(compiled, words[compiled.rules.letters]) for compiled in self.compiled]

    @staticmethod
    def _found(matches: list["_Match"], category: str) -> str | None:
        """The rule that finds `category` in the message, or None; "&&" rules last."""
        for match in matches:
            if (rule := match.first(category)) is not None:
                return rule.text
        # Each part of a rule joined by "&&" may hold in any file that has that rule: a message
        # can mix the languages.
        for match in matches:
            for whole, (of, parts) in match.compiled.rules.wholes.items():
                if of == category and all(
                    any(m.holds_part(whole, part) for m in matches) for part in parts
                ):
                    return whole
        return None


class _Match:
    """One rule file applied to one message."""

    def __init__(self, compiled: _Compiled, words: _Words):
        self.compiled, self.words = compiled, words
        starts = compiled.starts
        self.present = set().union(*(starts.get(i, ()) for i in words.present))
        self.spans: dict[Token, list[Span]] = {}

    def first(self, category: str) -> Rule | None:
        present = self.present
        for rule, tokens in self.compiled.by_category[category]:
            if tokens <= present and self._holds(rule):
                return rule
        return None

    def holds_part(self, whole: str, part: str) -> bool:
        """Whether this file has `part` of the rule `whole` joined by "&&", and it holds."""
        rule, tokens = self.compiled.parts.get((whole, part), (None, frozenset()))
        return rule is not None and tokens <= self.present and self._holds(rule)

    def _holds(self, rule: Rule) -> bool:
        part_spans = []
        for part in rule.parts:
            spans = self._phrase(part)
            if not spans:
                return False
            part_spans.append(spans)
        groups = [[part_spans[0]]]
        for join, spans in zip(rule.joins, part_spans[1:], strict=True):
            if join == "+":
                groups[-1].append(spans)
            else:
                groups.append([spans])
        if len(groups) == 1:
            return bool(_chain(groups[0], RULE_GAP))
        # "&": every group in one sentence
        sentence = self.words.sentence
        common: set[int] | None = None
        for group in groups:
            here = {sentence(start) for start, _end in _chain(group, RULE_GAP)}
            common = here if common is None else common & here
            if not common:
                return False
        return True

    def _phrase(self, tokens: Iterable[Token]) -> list[Span]:
        lists = []
        for token in tokens:
            spans = self._token(token)
            if not spans:
                return []
            lists.append(spans)
        return _chain(lists, PHRASE_GAP)

    def _token(self, token: Token) -> list[Span]:
        if token not in self.spans:
            if token.startswith("{"):
                by_first = self.compiled.concepts[token]
                spans = [
                    span
                    for ident in by_first.keys() & self.words.present
                    for phrase in by_first[ident]
                    for span in self._phrase(phrase)
                ]
            else:
                spans = [(p, p) for p in self.words.places(self.compiled.ids[token])]
            self.spans[token] = spans
        return self.spans[token]
