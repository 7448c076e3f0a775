"""Screening free text for signs of acute risk, from rules a clinician can read and extend.

The rules live in locales/crisis/*.txt (the format is explained at the top of en.txt). They
name concepts (a list of words and phrases: {means} = pills, rope, bridge...) and combine them
("{intent} + {die}", "{means} & {gathering}"), so that "I've been saving up my pills" is caught
without the word "suicide", while everyday expressions listed under [not] ("dead tired") are
never read as risk.

Before matching, text is folded onto one coarse alphabet: case, stress marks, Cyrillic and the
Latin ways people type Bulgarian ("samoubiq", "6te se ubiq") become the same words. Longer words
also match with one letter missing or two letters swapped. An Aho-Corasick automaton finds the
rule words in each word of the text, the first time that word is seen; after that the word costs
one dictionary lookup. A whole message is then matched at once, the places of each rule word as
the bits of one integer, so screening takes time linear in the length of the text and little
Python work per word.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, chain, compress, repeat
from operator import itemgetter
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
_WORD_OR_PIECE_END = re.compile(r"[^\W_]+|\||\0")  # NUL: never in normal text (_MARKS)
# Stress marks (after NFKD), apostrophes, and invisible characters that split a word
# ("d\u200bie"): zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks, NUL.
_MARKS = re.compile(r"[\u0300-\u036f'’\u00ad\u200b-\u200f\u2060-\u2064\ufeff\0]")
# ASCII maps to itself in the table too: str.translate is several times faster when it finds
# every character it meets.
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC) | {code: code for code in range(128)}
_NUMBER = re.compile(r"\d{2,}")
_BLANK_LINE = re.compile(r"\n\s*\n")
_DOUBLED = re.compile(r"(.)(?=\1)")  # dropped: a run of one letter keeps one
# Letters typed in Latin more than one way: a rule word with them matches each way ("ръка" as
# "raka", "ruka", "ryka"; "режа" as "reja", "драпя" as "drapja", "живея" as "wiveq"; "той" as
# "toj", which folds like "тож").
_TYPED_AS = {
    "ъ": ("а", "у", "и"), "я": ("я", "жа"), "ю": ("ю", "жу"), "ж": ("ж", "ш"), "й": ("й", "ж"),
}  # fmt: skip
# In short words "ш" for ж ("нош") is too often real.
_TYPED_AS_SHORT = {"ъ": ("а", "у", "и"), "й": ("й", "ж")}


def _normal(text: str) -> str:
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def _plain(text: str) -> str:
    """Lower case, no stress marks or apostrophes ("don't" is "dont"), numbers from 10 up as
    the word "nn" ("took 20 pills" is "took nn pills"), and "|" where a sentence ends."""
    return _ends_and_numbers(_normal(text))


def _ends_and_numbers(normal: str) -> str:
    return _NUMBER.sub(" nn ", _SENTENCE_END.sub(" | ", normal))


def _learn_pieces(pieces: list[str]) -> dict[str, tuple[str, ...]]:
    """Pieces of normal text between spaces -> their words through _plain, all in one go."""
    words = _WORD_OR_PIECE_END.findall(_ends_and_numbers(" " + " \0 ".join(pieces) + " "))
    learned, each, piece_words = {}, iter(pieces), []
    for word in words:
        if word == "\0":
            learned[next(each)] = tuple(piece_words)
            piece_words = []
        else:
            piece_words.append(word)
    learned[next(each)] = tuple(piece_words)
    return learned


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

# The words of a message are numbered by their places, and the places where a word is found
# are the bits of one integer: a phrase or a rule is matched by shifting and and-ing integers, a
# few operations in C however long the message is.

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


def _reach(ends: int, gap: int) -> int:
    """The places that may follow any of `ends` with at most `gap` words between."""
    reach = 0
    for step in range(1, gap + 2):
        reach |= ends << step
    return reach


def _starts(first: int, rest: Iterable[int], gap: int) -> dict[int, int]:
    """Where words (each as the bits of its places) follow each other with at most `gap` words
    between: {how far the last is from the first: the places of the first}. `rest` is read
    only as far as needed."""
    found = {0: first} if first else {}
    for mask in rest:
        if not found:
            break
        following: dict[int, int] = {}
        for distance, starts in found.items():
            for step in range(distance + 1, distance + gap + 2):
                if hit := starts & (mask >> step):
                    following[step] = following.get(step, 0) | hit
        found = following
    return found


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Memo(dict):
    """What a function gives for each word, remembered: messages repeat their words, so most
    cost one dictionary lookup. At most AT_MOST words; then all are forgotten at once."""

    AT_MOST = 20_000  # far more than a practice's clients use; a few MB

    def __init__(self, learn, seed: dict):
        super().__init__(seed)
        self.learn, self.seed = learn, seed  # learn: new words -> {word: tuple of values}

    def join(self, words: list[str]) -> list:
        """The values of all the words, one after another."""
        try:
            return list(chain.from_iterable(map(self.__getitem__, words)))
        except KeyError:
            if len(self) > self.AT_MOST:
                self.clear()
                self.update(self.seed)
            self.update(self.learn(list(set(words).difference(self))))
            return list(chain.from_iterable(map(self.__getitem__, words)))


class _Alphabet:
    """The words of every rule file folded one way, in one automaton."""

    def __init__(self, words_of):
        self.words_of = words_of
        self.ids: dict[Token, int] = {}  # word pattern ("die", "suicid*") -> id
        # Everyday expressions of every file, by the id of their first word: the ids of the
        # words after it, and of all its words
        self.everyday: dict[int, list[tuple[tuple[int, ...], frozenset[int]]]] = {}
        # A word of the text through _plain -> what each word it folds to matches
        self.known = _Memo(self._learn, {_BREAK: _SENTENCE_END_IDS})

    def add(self, rules: Rules) -> None:
        phrases = [p for ps in rules.concepts.values() for p in ps] + rules.everyday
        phrases += [part for rule in rules.rules for part in rule.parts]
        for token in (t for phrase in phrases for t in phrase if not t.startswith("{")):
            self.ids.setdefault(token, len(self.ids))
        for phrase in rules.everyday:
            as_ids = tuple(self.ids[t] for t in phrase)
            entry = (as_ids[1:], frozenset(as_ids))
            self.everyday.setdefault(as_ids[0], []).append(entry)

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

    def _learn(self, words: list[str]) -> dict[str, tuple[frozenset[int], ...]]:
        """Folds new words and runs the automaton over them, all in one go."""
        folded = self.words_of(" | ".join(words))  # what each word folds to, then "|"
        # Where " word" begins in the line -> the folded word's index
        offsets = accumulate(map((1).__add__, map(len, folded)), initial=0)
        index_at = dict(zip(offsets, range(len(folded)), strict=False))
        found = [_NO_IDS] * len(folded)
        for end, (length, idents) in self.automaton.iter(" " + " ".join(folded) + " "):
            index = index_at[end - length + 1]
            found[index] = found[index] | idents
        learned, each = {}, iter(words)
        pieces: list[frozenset[int]] = []
        for word, ids in zip(folded, found, strict=True):
            if word == _BREAK:
                learned[next(each)] = tuple(pieces)
                pieces = []
            else:
                pieces.append(ids)
        learned[next(each)] = tuple(pieces)
        return learned


class _Masks(dict):
    """Rule word id -> the places of the words matching it, as bits (0 when there are none),
    worked out the first time it is asked for: most ids found are never asked for."""

    def __init__(self, at: dict[frozenset[int], int]):
        super().__init__()
        self.kinds: dict[int, list[int]] = {}  # id -> the places of each kind of word with it
        for ids, places in at.items():
            for ident in ids:
                self.kinds.setdefault(ident, []).append(places)
        self.masked = 0  # places whose words count for no rule

    def __missing__(self, ident: int) -> int:
        found = 0
        for places in self.kinds.get(ident, ()):
            found |= places
        self[ident] = found & ~self.masked
        return self[ident]


class _Words:
    """One message in one alphabet: where the words are that match rule words."""

    def __init__(self, alphabet: _Alphabet, words: list[str]):
        at: dict[frozenset[int], int] = {}  # what a word matches -> its places, as bits
        ids_at = alphabet.known.join(words)
        for place, ids in compress(enumerate(ids_at), ids_at):
            at[ids] = at.get(ids, 0) | 1 << place
        self.masks = _Masks(at)
        self.present = self.masks.kinds.keys()  # the ids of the words found
        if masked := self._everyday(alphabet.everyday):
            self.masks.masked = masked
            self.masks.clear()

    def _everyday(self, everyday: dict[int, list[tuple[tuple[int, ...], frozenset[int]]]]) -> int:
        """ "dead tired": the places of everyday expressions, whose words count for no rule."""
        masks, present, masked = self.masks, self.present, 0
        for first in everyday.keys() & present:
            for rest, ids in everyday[first]:
                if present >= ids:
                    found = _starts(masks[first], map(masks.__getitem__, rest), PHRASE_GAP)
                    for distance, starts in found.items():
                        for step in range(distance + 1):
                            masked |= starts << step
        return masked

    def sentence(self, place: int) -> int:
        """Which sentence of the message a place is in, counting from 0."""
        return (self.masks[_SENTENCE_END_ID] & ((1 << place) - 1)).bit_count()


@dataclass(frozen=True)
class _Steps:
    """A rule as its tokens in order, each with the words allowed before it: in groups that
    must hold in one sentence (joined by "&")."""

    rule: Rule
    groups: tuple[tuple[tuple[Token, int], ...], ...]

    @classmethod
    def of(cls, rule: Rule) -> "_Steps":
        groups: list[list[tuple[Token, int]]] = [[]]
        for index, part in enumerate(rule.parts):
            if index and rule.joins[index - 1] == "&":
                groups.append([])
            groups[-1] += [(t, PHRASE_GAP if i else RULE_GAP) for i, t in enumerate(part)]
        return cls(rule, tuple(map(tuple, groups)))


class _Compiled:
    """One rule file with its words as the ids of its alphabet, ready to match."""

    def __init__(self, rules: Rules, ids: dict[Token, int]):
        self.rules, self.ids = rules, ids
        # Each concept's phrases by the id of their first word: the ids of the words after it
        self.concepts: dict[Token, dict[int, list[tuple[int, ...]]]] = {}
        # Word id -> the tokens (words and concepts) that a phrase starting with it can be.
        self.starts: dict[int, set[Token]] = {}
        for name, phrases in rules.concepts.items():
            by_first = self.concepts.setdefault(name, {})
            for phrase in phrases:
                rest = tuple(ids[token] for token in phrase[1:])
                by_first.setdefault(ids[phrase[0]], []).append(rest)
                self.starts.setdefault(ids[phrase[0]], set()).add(name)
        for token, ident in ids.items():
            self.starts.setdefault(ident, set()).add(token)
        # A rule can only hold where all its tokens can: most are ruled out by that alone. Each
        # is filed under its rarest token, so that a message without it never looks at the rule.
        self.filed: dict[str, dict[Token, list[tuple[int, _Steps, frozenset[Token]]]]] = {
            category: {} for category in CATEGORIES
        }  # by category
        # The parts of rules joined by "&&", by (that rule, the part) as written
        self.parts: dict[tuple[str, str], tuple[_Steps, frozenset[Token]]] = {}
        for order, rule in enumerate(rules.rules):
            tokens = frozenset(t for part in rule.parts for t in part)
            steps = _Steps.of(rule)
            if rule.whole is None:
                rarest = min(sorted(tokens), key=self._commonness)
                filed = self.filed[rule.category]
                filed.setdefault(rarest, []).append((order, steps, tokens))
            else:
                self.parts[rule.whole, rule.text] = (steps, tokens)

    def _commonness(self, token: Token) -> int:
        """How often a token is likely met: short words ("i", "me", "се") are everywhere."""
        if token.startswith("{"):
            return sum(self._commonness(phrase[0]) for phrase in self.rules.concepts[token])
        return 10 if len(token.split("|")[0].rstrip("*")) <= 3 else 1


class CrisisScreen:
    """Finds the category of acute risk a text shows, if any."""

    def __init__(self, rule_sets: list[Rules]):
        self.rule_sets = rule_sets
        self.alphabets = {letters: _Alphabet(words_of) for letters, words_of in FOLDS.items()}
        for rules in rule_sets:
            self.alphabets[rules.letters].add(rules)
        self.compiled = [_Compiled(r, self.alphabets[r.letters].ids) for r in rule_sets]
        self._pieces = _Memo(_learn_pieces, {})

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
        plain = self._plain_words(text)
        used = {rules.letters for rules in self.rule_sets}
        words = {letters: _Words(self.alphabets[letters], plain) for letters in used}
        return [_Match(compiled, words[compiled.rules.letters]) for compiled in self.compiled]

    def _plain_words(self, text: str) -> list[str]:
        """_plain_words(_plain(text)), each piece of text between spaces done once: a dash
        between spaces ends a sentence, and a blank line."""
        pieces = []
        for index, paragraph in enumerate(_BLANK_LINE.split(_normal(text))):
            if index:
                pieces.append(_BREAK)
            pieces += paragraph.split()
        return self._pieces.join(pieces)

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
        # The tokens that can be found: the words and the concepts a phrase starting there is of
        self.present = set().union(*map(compiled.starts.get, words.present, repeat(())))
        self.shapes: dict[Token, dict[int, int]] = {}

    def first(self, category: str) -> Rule | None:
        """The first rule of `category`, in the file's order, that holds in the message."""
        filed, present = self.compiled.filed[category], self.present
        candidates = (entry for token in present & filed.keys() for entry in filed[token])
        for _order, steps, tokens in sorted(candidates, key=itemgetter(0)):
            if tokens <= present and self._holds(steps):
                return steps.rule
        return None

    def holds_part(self, whole: str, part: str) -> bool:
        """Whether this file has `part` of the rule `whole` joined by "&&", and it holds."""
        steps, tokens = self.compiled.parts.get((whole, part), (None, frozenset()))
        return steps is not None and tokens <= self.present and self._holds(steps)

    def _holds(self, steps: _Steps) -> bool:
        if len(steps.groups) == 1:
            return bool(self._ends(steps.groups[0]))
        # "&": every group in one sentence
        common: set[int] | None = None
        for group in steps.groups:
            here = set(map(self.words.sentence, _bits(self._ends(group))))
            common = here if common is None else common & here
            if not common:
                return False
        return True

    def _ends(self, group: tuple[tuple[Token, int], ...]) -> int:
        """The places where the group's last token ends, as bits."""
        ends = -1  # before the first token: anywhere
        for token, gap in group:
            reach = _reach(ends, gap) if ends != -1 else -1
            ends = 0
            for distance, starts in self._shape(token).items():
                ends |= (reach & starts) << distance
            if not ends:
                return 0
        return ends

    def _shape(self, token: Token) -> dict[int, int]:
        """Where the token's words begin, by how far their last word is from the first."""
        if token not in self.shapes:
            words = self.words
            if token.startswith("{"):
                by_first = self.compiled.concepts[token]
                shape: dict[int, int] = {}
                masks = words.masks
                for ident in by_first.keys() & words.present:
                    if not (first := masks[ident]):
                        continue
                    for rest in by_first[ident]:
                        found = _starts(first, map(masks.__getitem__, rest), PHRASE_GAP)
                        for distance, starts in found.items():
                            shape[distance] = shape.get(distance, 0) | starts
            else:
                mask = words.masks[self.compiled.ids[token]]
                shape = {0: mask} if mask else {}
            self.shapes[token] = shape
        return self.shapes[token]
