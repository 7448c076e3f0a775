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
from itertools import accumulate
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
_DIGIT_IN_WORD = re.compile(r"(?<=[a-z])[64130]|[64130](?=[a-z])")
# A blank line ends a sentence, one line break does not: on a phone "i want\nto die" is one.
_SENTENCE_END = re.compile(r"[.!?;|]+|\n\s*\n|\s[-–—]\s")
_BREAK = "|"  # stands for the end of a sentence in folded text
_WORD = re.compile(r"[a-z]+|\|")
_ANY_WORD = re.compile(r"[^\W_]+|\|")
# Stress marks (after NFKD), apostrophes, and invisible characters that split a word
# ("d\u200bie"): zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks.
_MARKS = re.compile(r"[\u0300-\u036f'’\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC)
_NUMBER = re.compile(r"\d{2,}")
_DOUBLED = re.compile(r"(.)\1+")
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


def fold_plain(text: str) -> list[str]:
    """Text as words, for rules written in English: "Dieeee" is "die"."""
    return _ANY_WORD.findall(_DOUBLED.sub(r"\1", _plain(text)))


def fold(text: str) -> list[str]:
    """Text as a list of coarse words: the same for "Самоубия", "samoubiq" and "SAMOUBIJA"."""
    text = _plain(text).translate(_CYRILLIC_TABLE)
    # Digits stand for letters only inside words ("6te", "4ove4e"), not in "18" or "2 pm".
    text = _DIGIT_IN_WORD.sub(lambda m: _DIGIT_LETTERS[m[0]], text)
    for typed, canonical in _LATIN:
        text = text.replace(typed, canonical)
    return _WORD.findall(_DOUBLED.sub(r"\1", text))


FOLDS = {"plain": fold_plain, "bulgarian": fold}


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


def _tokens(phrase: str, fold=fold_plain) -> tuple[Token, ...]:
    """Written words as tokens; a word with ъ becomes its typed forms joined by "|"."""
    tokens: list[Token] = []
    for written in phrase.split():
        if written.startswith("{") and written.endswith("}"):
            tokens.append(written)
            continue
        star = "*" if written.endswith("*") else ""
        bare = written.rstrip("*")
        parts = fold(bare)
        if fold is FOLDS["bulgarian"] and len(parts) == 1:
            forms = {part for form in _typed_forms(bare.lower()) for part in fold(form)}
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
            phrase = _tokens(line, FOLDS[rules.letters])
            if not phrase or any(t.startswith("{") for t in phrase):
                raise ValueError(f"{where}: a word list holds words, not {line!r}")
            target = rules.concepts[section] if section != "not" else rules.everyday
            target.append(phrase)
            continue
        sentences_of = [piece.strip() for piece in line.split("&&")]
        whole = line if len(sentences_of) > 1 else None
        for one in sentences_of:
            pieces = re.split(r"\s*([+&])\s*", one)
            parts = tuple(_tokens(piece, FOLDS[rules.letters]) for piece in pieces[::2])
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

Span = tuple[int, int]  # first and last word, in one sentence's words


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
    """The words of every rule file folded one way, in one automaton."""

    def __init__(self, fold):
        self.fold = fold
        self.ids: dict[Token, int] = {}  # word pattern ("die", "suicid*") -> id

    def add(self, rules: Rules) -> None:
        phrases = [p for ps in rules.concepts.values() for p in ps] + rules.everyday
        phrases += [part for rule in rules.rules for part in rule.parts]
        for token in (t for phrase in phrases for t in phrase if not t.startswith("{")):
            self.ids.setdefault(token, len(self.ids))

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

    def matches(self, text: str) -> list[dict[int, set[int]]]:
        """Sentence by sentence, for each word that matches any: the ids of the word patterns
        it matches, by the word's place in its sentence. One pass over the whole text; the
        per-word work is done in C (map, accumulate, zip), only matches cost Python time."""
        words = self.fold(text)
        # Where " word" begins in the joined line -> the word's index in the text.
        offsets = accumulate(map((1).__add__, map(len, words)), initial=0)
        index_at = dict(zip(offsets, range(len(words)), strict=False))
        breaks = [i for i, word in enumerate(words) if word == _BREAK]
        found: list[dict[int, set[int]]] = [{} for _ in range(len(breaks) + 1)]
        for end, (length, idents) in self.automaton.iter(" " + " ".join(words) + " "):
            index = index_at[end - length + 1]
            sentence = bisect_left(breaks, index)
            first = breaks[sentence - 1] + 1 if sentence else 0
            found[sentence].setdefault(index - first, set()).update(idents)
        return found


class CrisisScreen:
    """Finds the category of acute risk a text shows, if any."""

    def __init__(self, rule_sets: list[Rules]):
        self.rule_sets = rule_sets
        self.alphabets = {letters: _Alphabet(fold) for letters, fold in FOLDS.items()}
        for rules in rule_sets:
            self.alphabets[rules.letters].add(rules)

    @classmethod
    def load(cls, folder: Path) -> "CrisisScreen":
        paths = sorted(folder.glob("*.txt"))
        return cls([parse(path.name, path.read_text(encoding="utf-8")) for path in paths])

    def check(self, text: str) -> str | None:
        """The most urgent category `text` shows, or None."""
        found = self.findings(text)
        return next((category for category in CATEGORIES if category in found), None)

    def findings(self, text: str) -> dict[str, str]:
        """Each category found, with the rule that found it (for reviews of the rules)."""
        found: dict[str, str] = {}
        held: set[tuple[str, str]] = set()  # the parts of "&&" rules seen in some sentence
        used = {rules.letters for rules in self.rule_sets}
        matches = {letters: self.alphabets[letters].matches(text) for letters in used}
        count = len(next(iter(matches.values()), []))  # each alphabet breaks at the same places
        for number in range(count):
            if not any(
                not self._trigger_ids[letters].isdisjoint(ids)
                for letters, found_in in matches.items()
                for ids in found_in[number].values()
            ):
                continue  # only words that start no rule ("i", "me", "се"), or none at all
            sentence = [_Sentence(self, r, matches[r.letters][number]) for r in self.rule_sets]
            for each in sentence:  # an everyday expression counts for every file
                each.set_aside_everyday()
            for each in sentence:
                each.find(found, held)
        for rules in self.rule_sets:
            for whole, (category, parts) in rules.wholes.items():
                if category not in found and all((whole, part) in held for part in parts):
                    found[category] = whole
        return found

    @cached_property
    def _needs(self) -> dict[int, list[frozenset[int]]]:  # by id() of the rule or phrase
        """For each rule (by id) and each token in it: the word ids one of which must be in a
        sentence for the rule to hold there. Most rules are ruled out by this alone."""
        needs: dict[int, list[frozenset[int]]] = {}
        for rules in self.rule_sets:
            ids = self.alphabets[rules.letters].ids

            def firsts(token: Token, rules=rules, ids=ids) -> frozenset[int]:
                if token.startswith("{"):
                    return frozenset(ids[p[0]] for p in rules.concepts[token] if p)
                return frozenset((ids[token],))

            for rule in rules.rules:
                needs[id(rule)] = [firsts(t) for part in rule.parts for t in part]
            for phrase in rules.everyday:
                needs[id(phrase)] = [firsts(t) for t in phrase]
        return needs

    @cached_property
    def _triggers(self) -> dict[int, dict[int, list[tuple[int, Rule]]]]:
        """Per file (by id()), word id -> the rules that cannot hold without that word: each
        rule is filed under the words of its most selective token."""
        triggers: dict[int, dict[int, list[tuple[int, Rule]]]] = {}
        for rules in self.rule_sets:
            index: dict[int, list[tuple[int, Rule]]] = {}
            for order, rule in enumerate(rules.rules):
                for ident in min(self._needs[id(rule)], key=self._commonness):
                    index.setdefault(ident, []).append((order, rule))
            triggers[id(rules)] = index
        return triggers

    @cached_property
    def _trigger_ids(self) -> dict[str, set[int]]:
        """Per alphabet, the words that can start a rule."""
        found: dict[str, set[int]] = {letters: set() for letters in self.alphabets}
        for rules in self.rule_sets:
            found[rules.letters] |= self._triggers[id(rules)].keys()
        return found

    @cached_property
    def _concepts(self) -> dict[int, dict[Token, dict[int, list[tuple[Token, ...]]]]]:
        """Per file, each concept's phrases by the id of their first word."""
        concepts: dict[int, dict[Token, dict[int, list[tuple[Token, ...]]]]] = {}
        for rules in self.rule_sets:
            ids = self.alphabets[rules.letters].ids
            concepts[id(rules)] = {
                name: {ident: [p for p in phrases if ids[p[0]] == ident] for ident in firsts}
                for name, phrases in rules.concepts.items()
                if (firsts := {ids[p[0]] for p in phrases})
            } | {name: {} for name, phrases in rules.concepts.items() if not phrases}
        return concepts

    def _commonness(self, need: frozenset[int]) -> int:
        """How often a token is likely met: short words ("i", "me", "се") are everywhere."""
        short = self._short_ids
        return sum(10 if ident in short else 1 for ident in need)

    @cached_property
    def _short_ids(self) -> set[int]:
        return {
            ident
            for alphabet in self.alphabets.values()
            for token, ident in alphabet.ids.items()
            if len(token.split("|")[0].rstrip("*")) <= 3
        }

    @cached_property
    def _everyday_triggers(self) -> dict[int, dict[int, list[tuple[Token, ...]]]]:
        """Per file, word id -> the everyday expressions that start with that word."""
        triggers: dict[int, dict[int, list[tuple[Token, ...]]]] = {}
        for rules in self.rule_sets:
            index: dict[int, list[tuple[Token, ...]]] = {}
            for phrase in rules.everyday:
                for ident in self._needs[id(phrase)][0]:
                    index.setdefault(ident, []).append(phrase)
            triggers[id(rules)] = index
        return triggers


class _Sentence:
    """One rule file applied to one sentence's word matches."""

    def __init__(self, screen: CrisisScreen, rules: Rules, matches: dict[int, set[int]]):
        self.needs, self.ids = screen._needs, screen.alphabets[rules.letters].ids
        self.triggers = screen._triggers[id(rules)]
        self.everyday = screen._everyday_triggers[id(rules)]
        self.concepts = screen._concepts[id(rules)]
        self.rules, self.matches = rules, matches
        self._index()

    def _index(self) -> None:
        self.positions: dict[int, list[int]] = {}
        for index, ids in self.matches.items():
            for ident in ids:
                self.positions.setdefault(ident, []).append(index)
        self.spans: dict[Token, list[Span]] = {}

    def _possible(self, key) -> bool:
        return all(not need.isdisjoint(self.positions) for need in self.needs[key])

    def set_aside_everyday(self) -> None:
        """ "dead tired": neither word counts for any rule."""
        masked = False
        candidates = {id(p): p for i in self.positions for p in self.everyday.get(i, ())}
        for phrase in candidates.values():
            if self._possible(id(phrase)):
                for start, end in self._phrase(phrase):
                    for index in range(start, end + 1):
                        self.matches.pop(index, None)
                        masked = True
        if masked:
            self._index()

    def find(self, found: dict[str, str], held: set[tuple[str, str]]) -> None:
        candidates = {
            order: rule for ident in self.positions for order, rule in self.triggers.get(ident, ())
        }
        for _order, rule in sorted(candidates.items()):
            if rule.category in found or not self._possible(id(rule)):
                continue
            if rule.whole is None:
                if self._holds(rule):
                    found[rule.category] = rule.text
            elif (rule.whole, rule.text) not in held and self._holds(rule):
                held.add((rule.whole, rule.text))

    def _holds(self, rule: Rule) -> bool:
        part_spans = [self._phrase(part) for part in rule.parts]
        if not all(part_spans):
            return False
        groups = [[part_spans[0]]]
        for join, spans in zip(rule.joins, part_spans[1:], strict=True):
            if join == "+":
                groups[-1].append(spans)
            else:
                groups.append([spans])
        return all(_chain(group, RULE_GAP) for group in groups)

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
                by_first = self.concepts[token]
                spans = [
                    span
                    for ident in by_first.keys() & self.positions.keys()
                    for phrase in by_first[ident]
                    for span in self._phrase(phrase)
                ]
            else:
                spans = [(i, i) for i in self.positions.get(self.ids[token], ())]
            self.spans[token] = spans
        return self.spans[token]
