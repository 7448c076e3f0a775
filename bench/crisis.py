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


def screening_ms(screen: CrisisScreen, characters: int = 4096, rounds: int = 200) -> float:
    """The slowest of the median times for long messages built from the corpus's own words."""
    words = " ".join(row["text"] for lang in LANGUAGES for row in load(lang, "dev")).split()
    rng = random.Random(7)
    worst = 0.0
    for _ in range(5):
        text = ""
        while len(text) < characters:
            text += rng.choice(words) + rng.choice(("", "", "", ".", ",")) + " "
        text = text[:characters]
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            screen.check(text)
            times.append(time.perf_counter() - start)
        worst = max(worst, sorted(times)[len(times) // 2] * 1000)
    return worst


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
    print(f"\nscreening a 4,096-character message: {screening_ms(screen):.2f} ms (median)")


if __name__ == "__main__":
    main()
