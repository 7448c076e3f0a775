"""The screen against our own corpus (tests/data/crisis): messages by many authors, split in
half per category. The rules are written against the development half; the held-back half
shows how the screen does on phrasing it was not written for. `python -m bench.crisis`
prints every figure. The issue's target on the held-back half is recall 0.95 and at most 2%
false alarms; the floors below sit just under what the screen reaches today, so that a change to
the rules that loses ground fails."""

from pathlib import Path

import pytest

import locales
from bench.crisis import LANGUAGES, load, measure
from dialogs.crisis import CrisisScreen

SCREEN = CrisisScreen.load(Path(locales.__file__).parent / "crisis")
FLOORS = {  # half: language: (least recall, most false alarms)
    "dev": {"en": (0.96, 0.02), "bg": (0.94, 0.01), "bglatin": (0.86, 0.02)},
    "heldout": {"en": (0.79, 0.045), "bg": (0.75, 0.045), "bglatin": (0.65, 0.035)},
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("half", FLOORS)
def test_recall_and_false_alarms_hold_their_floor(language, half):
    figures = measure(SCREEN, load(language, half))
    least_recall, most_alarms = FLOORS[half][language]
    assert figures["recall"] >= least_recall, figures
    assert figures["false_alarms"] <= most_alarms, figures


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_half_has_150_risky_and_150_everyday_messages_between_them(language):
    rows = load(language, "dev") + load(language, "heldout")
    risky = [r for r in rows if r["category"] != "none"]
    assert len(risky) >= 150 and len(rows) - len(risky) >= 150
    assert not {r["text"] for r in load(language, "dev")} & {
        r["text"] for r in load(language, "heldout")
    }
