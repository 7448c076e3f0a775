"""The crisis screen measured: recall and false alarms on the corpus, and screening time.

    python -m bench.crisis            # both halves of tests/data/crisis, and the timing
    python -m bench.crisis --misses   # also list what the development half misses

Recall counts a risky message as caught when any category fires; "right category" says how
often the category found is the one the corpus gives. The rules are written against the
development half only; the held-back half is what the figures are judged on.
"""

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

from dialogs.crisis import CATEGORIES, CrisisScreen

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis"
RULES = Path(__file__).resolve().parent.parent / "locales" / "crisis"
LANGUAGES = {"en": "English", "bg": "Bulgarian", "bglatin": "Bulgarian in Latin letters"}


def load(language: str, half: str) -> list[dict]:
    path = CORPUS / f"{language}.{half}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def measure(screen: CrisisScreen, rows: list[dict]) -> dict:
    """Recall per category and overall, false alarms, and how often the category is right."""
    caught, total, right = Counter(), Counter(), 0
    alarms = everyday = 0
    for row in rows:
        found = screen.check(row["text"])
        if row["category"] == "none":
            everyday += 1
            alarms += found is not None
        else:
            total[row["category"]] += 1
            caught[row["category"]] += found is not None
            right += found == row["category"]
    risky = sum(total.values())
    return {
        "recall": sum(caught.values()) / risky,
        "by_category": {c: (caught[c], total[c]) for c in CATEGORIES if total[c]},
        "false_alarms": alarms / everyday,
        "alarms": (alarms, everyday),
        "right_category": right / risky,
    }


def _median_ms(screen: CrisisScreen, text: str, rounds: int = 100) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        screen.check(text)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000


def screening_ms(screen: CrisisScreen, characters: int = 4096) -> dict[str, float]:
    """Milliseconds to screen: a long message of the corpus's own messages one after another
    (the slowest language), a long salad of the corpus's words in random order (nearly every
    sentence holds risk words: the worst case), an average corpus message, and a long message
    the first time its words are seen."""
    rows = [row for lang in LANGUAGES for row in load(lang, "dev")]
    stories = [" ".join(r["text"] for r in load(lang, "dev"))[:characters] for lang in LANGUAGES]
    words = " ".join(row["text"] for row in rows).split()
    rng = random.Random(7)
    salad = ""
    while len(salad) < characters:
        salad += rng.choice(words) + rng.choice(("", "", "", ".", ",")) + " "
    start = time.perf_counter()
    for row in rows:
        screen.check(row["text"])
    each = (time.perf_counter() - start) / len(rows) * 1000
    repeated = ("i'll i'll i'll die " * characters)[
        :characters
    ]  # many ways to chain the same words
    # The screen remembers the words it has seen: a message of new words costs more, once.
    first_sight = []
    for story in stories:
        fresh = CrisisScreen.load(RULES)
        fresh.check("warm up")
        start = time.perf_counter()
        fresh.check(story)
        first_sight.append((time.perf_counter() - start) * 1000)
    return {
        "first sight": max(first_sight),
        "repeated words": _median_ms(screen, repeated, rounds=20),
        "long message": max(_median_ms(screen, story) for story in stories),
        "long word salad": _median_ms(screen, salad[:characters]),
        "average message": each,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list the development misses")
    args = parser.parse_args()
    screen = CrisisScreen.load(RULES)
    for half in ("dev", "heldout"):
        print(f"\n{half} half")
        for lang, name in LANGUAGES.items():
            m = measure(screen, load(lang, half))
            cats = ", ".join(f"{c} {n}/{t}" for c, (n, t) in m["by_category"].items())
            print(
                f"  {name}: recall {m['recall']:.3f} ({cats}); false alarms "
                f"{m['false_alarms']:.3f} ({m['alarms'][0]}/{m['alarms'][1]}); "
                f"right category {m['right_category']:.2f}"
            )
    if args.misses:
        for lang in LANGUAGES:
            for row in load(lang, "dev"):
                found = screen.check(row["text"])
                if (found is None) != (row["category"] == "none"):
                    print(f"{lang} {row['category']} -> {found}: {row['text']}")
    screen.check("warm up")
    times = screening_ms(screen)
    print(
        f"\nscreening time: {times['long message']:.1f} ms for a 4,096-character message, "
        f"{times['long word salad']:.1f} ms for 4,096 characters of risk words in random order, "
        f"{times['average message']:.2f} ms for an average message of the corpus, "
        f"{times['repeated words']:.1f} ms for 4,096 characters of the same few risk words, "
        f"{times['first sight']:.1f} ms for a 4,096-character message of words not seen before"
    )


if __name__ == "__main__":
    main()
